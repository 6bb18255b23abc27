using Cocoon.Devnet;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cocoon.Web.Tests.Browser;

/// <summary>
/// The newcomer's money path in Chromium against the local devnet: the test wallet gets test TON from
/// the faucet, tops up through the Balance page (its transfer signed in the browser by @ton/ton and
/// applied by the devnet), the chain watcher credits it, a job with a budget runs on a priced agent,
/// and its charge shows on the job page and on Balance.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Browser")]
public sealed class TopUpBrowserTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_test_wallet_tops_up_through_the_devnet_and_pays_for_a_job()
    {
        var devnetUrl = $"http://127.0.0.1:{FreePort.Next()}";
        await using var devnet = DevnetServer.Build(devnetUrl);
        await devnet.StartAsync();
        var db = await postgres.CreateDatabaseAsync("browser_top_up");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser-top-up", new Dictionary<string, string>
        {
            ["Cocoon__Ton__DevnetUrl"] = devnetUrl,
            ["Cocoon__Ton__Toncenter__BaseUrl"] = devnetUrl,
            ["Cocoon__Ton__DepositAddress"] = "0:c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0",
            ["Cocoon__Money__DefaultPricePerTflop"] = "1000000000000",
        });
        await using var agent = await AgentProcess.StartPairedAsync(portal, "priced-agent");
        await portal.WaitForAgentsOnlineAsync(1);
        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/balance");

        await Assertions.Expect(page.Locator("#deposit-comment")).ToContainTextAsync("cocoon-");
        await page.Locator("#devnet-faucet").ClickAsync();
        await Assertions.Expect(page.Locator("#top-up-message")).ToContainTextAsync("100 more test TON");
        await page.Locator("#top-up-amount input, input#top-up-amount").First.FillAsync("5");
        await page.Locator("#top-up-send").ClickAsync();
        await Assertions.Expect(page.Locator("#balance-available")).ToHaveTextAsync("5.000000000", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#deposits-table")).ToContainTextAsync("credited");

        // A job with a 1 TON budget on an agent charging 1000 TON per TFLOP: 4 units of 2 × 64³ products.
        await page.GotoAsync(new Uri(portal.BaseAddress, "jobs/new").ToString());
        await page.WaitForSelectorAsync("#cocoon-app[data-interactive=true]", new() { Timeout = 30_000 });
        await page.GetByLabel("Matrix size (n × n)").FillAsync("64");
        await page.GetByLabel("Matrices", new() { Exact = true }).FillAsync("8");
        await page.GetByLabel("Matrices per work unit").FillAsync("2");
        await page.Locator("#job-budget input, input#job-budget").First.FillAsync("1");
        await Assertions.Expect(page.GetByText("4 work units")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.Locator("#submit-job").ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/jobs/[0-9a-f-]{36}$"), new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#job-state")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 120_000 });
        const long charge = (2 * 2 * 64 * 64 * 64) * 11 / 10 * 4;
        var charged = Cocoon.Web.Features.Ledger.Ton.Format(charge);
        await Assertions.Expect(page.Locator("#job-charged")).ToHaveTextAsync(charged);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repo.ResultsDirectory, "browser-paid-job.png"), FullPage = true });

        await page.GotoAsync(new Uri(portal.BaseAddress, "balance").ToString());
        await Assertions.Expect(page.Locator("#balance-available")).ToHaveTextAsync(Cocoon.Web.Features.Ledger.Ton.Format((5 * Cocoon.Web.Features.Ledger.Ton.Nano) - charge));
        await Assertions.Expect(page.Locator("#statement-table")).ToContainTextAsync("Unit 3 of job");
        Assert.Contains(Cocoon.Web.Features.Ledger.Ton.Format(4 * 2 * 2 * 64 * 64 * 64), await portal.Http.GetStringAsync("earnings"), StringComparison.Ordinal);
    }
}
