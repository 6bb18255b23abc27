using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cocoon.Web.Tests.Browser;

/// <summary>The real portal in Chromium: start a job from the form and watch it run live.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Browser")]
public sealed partial class JobPageBrowserTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_job_started_in_the_browser_shows_live_progress_and_finishes()
    {
        var db = await postgres.CreateDatabaseAsync("browser_job");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser");
        await using var agent = await AgentProcess.StartPairedAsync(portal, "browser-agent");
        await portal.WaitForAgentsOnlineAsync(1);
        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/jobs/new");

        await page.GetByLabel("Name").FillAsync("Browser job");
        await page.GetByLabel("Matrix size (n × n)").FillAsync("64");
        await page.GetByLabel("Matrices", new() { Exact = true }).FillAsync("240");
        await page.GetByLabel("Matrices per work unit").FillAsync("8");
        // The helper text is computed on the server: once it shows 30 units the circuit is live.
        await Assertions.Expect(page.GetByText("30 work units")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.Locator("#submit-job").ClickAsync();
        await page.WaitForURLAsync(JobUrl(), new() { Timeout = 30_000 });

        var seen = new List<double>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await page.Locator("#job-state").GetAttributeAsync("data-state") != "Succeeded")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the job did not finish; progress seen: {string.Join(", ", seen)}");
            var value = await page.Locator("#job-progress").GetAttributeAsync("data-value");
            seen.Add(double.Parse(value ?? "0", CultureInfo.InvariantCulture));
            await Task.Delay(100);
        }

        await Assertions.Expect(page.Locator("#units-done")).ToHaveTextAsync("30 / 30");
        Assert.Equal("100.0", await page.Locator("#job-progress").GetAttributeAsync("data-value"));
        Assert.Contains(seen, v => v is > 0 and < 100);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.Second >= p.First), $"progress never goes back: {string.Join(", ", seen)}");
        Assert.Equal(30, await page.Locator(".unit-state[data-state=Succeeded]").CountAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repo.ResultsDirectory, "browser-job-finished.png"), FullPage = true });

        await page.GotoAsync(new Uri(portal.BaseAddress, "agents").ToString());
        await Assertions.Expect(page.Locator(".agent-status[data-online=true]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByText("browser-agent")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Out_of_range_values_are_explained_in_the_form_and_start_nothing()
    {
        var db = await postgres.CreateDatabaseAsync("browser_bad");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser-bad");
        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/jobs/new");

        await page.GetByLabel("Matrices", new() { Exact = true }).FillAsync("10");
        await Assertions.Expect(page.GetByText("2 work units")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.GetByLabel("Matrix size (n × n)").FillAsync("1");
        await page.GetByLabel("Matrices per work unit").FillAsync("50");
        await page.Locator("#submit-job").ClickAsync();

        await Assertions.Expect(page.GetByText("Matrix size must be between 2 and 2048.").First).ToBeVisibleAsync();

        // Rules across fields are checked once every field is in range on its own.
        await page.GetByLabel("Matrix size (n × n)").FillAsync("16");
        await page.Locator("#submit-job").ClickAsync();
        await Assertions.Expect(page.GetByText("Matrices per unit (50) cannot exceed the matrix count (10).").First).ToBeVisibleAsync();
        Assert.EndsWith("/jobs/new", page.Url, StringComparison.Ordinal);
        Assert.Empty(await portal.Http.GetFromJsonAsync<List<object>>("api/jobs") ?? []);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repo.ResultsDirectory, "browser-job-invalid.png") });
    }

    [GeneratedRegex(@"/jobs/[0-9a-f\-]{36}$")]
    private static partial Regex JobUrl();
}
