using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cocoon.Web.Tests.Browser;

/// <summary>Wallet sign-in through the real page in Chromium, with the Development test wallet.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Browser")]
public sealed class SignInBrowserTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_test_wallet_signs_in_sees_its_address_and_signs_out()
    {
        var db = await postgres.CreateDatabaseAsync("browser_signin");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser-signin");
        await using var browser = await Infrastructure.Browser.LaunchAsync();

        // Pages need a session: the portal sends the browser to the sign-in page and back.
        var page = await browser.OpenAsync(new Uri(portal.BaseAddress, "signin?ReturnUrl=%2Fagents"));
        await Assertions.Expect(page.GetByText("Development only: test wallet.")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repo.ResultsDirectory, "browser-signin.png") });
        await page.Locator("#test-wallet-sign-in").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/agents", new() { Timeout = 30_000 });

        var me = await page.EvaluateAsync<JsonElement>("async () => (await fetch('/api/auth/me')).json()");
        var friendly = me.GetProperty("friendlyAddress").GetString()!;
        Assert.StartsWith("0Q", friendly, StringComparison.Ordinal); // testnet, non-bounceable: the test wallet says network -3
        Assert.Equal("V4R2", me.GetProperty("walletVersion").GetString());
        await Assertions.Expect(page.Locator("#signed-in-as")).ToContainTextAsync(friendly[..6]);

        await page.Locator("#sign-out").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/signin", new() { Timeout = 30_000 });
        var response = await page.GotoAsync(new Uri(portal.BaseAddress, "jobs").ToString());
        Assert.Equal("/signin", new Uri(page.Url).AbsolutePath);
        Assert.Equal(401, (await page.APIRequest.GetAsync(new Uri(portal.BaseAddress, "api/auth/me").ToString())).Status);
        Assert.NotNull(response);
    }

    [Fact]
    public async Task A_w5_test_wallet_made_by_ton_ton_verifies_too()
    {
        var db = await postgres.CreateDatabaseAsync("browser_w5");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser-w5");
        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenAsync(new Uri(portal.BaseAddress, "signin"));
        await page.GetByText("…as a W5 wallet").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/jobs", new() { Timeout = 30_000 });
        var me = await page.EvaluateAsync<JsonElement>("async () => (await fetch('/api/auth/me')).json()");
        Assert.Equal("V5R1", me.GetProperty("walletVersion").GetString());
    }

    [Fact]
    public async Task A_developer_is_refused_the_finance_page_until_an_admin_grants_finance()
    {
        var db = await postgres.CreateDatabaseAsync("browser_finance");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser-finance");
        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/jobs");
        await Assertions.Expect(page.Locator("a[href='/finance']")).ToHaveCountAsync(0);

        await page.GotoAsync(new Uri(portal.BaseAddress, "finance").ToString());
        Assert.Equal("/denied", new Uri(page.Url).AbsolutePath);
        await Assertions.Expect(page.Locator("#access-denied")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repo.ResultsDirectory, "browser-finance-denied.png") });

        var me = await page.EvaluateAsync<JsonElement>("async () => (await fetch('/api/auth/me')).json()");
        var grant = await portal.Http.PostAsJsonAsync($"api/admin/accounts/{me.GetProperty("id").GetGuid()}/roles",
            new { role = "Finance", granted = true, reason = "browser test" });
        Assert.Equal(System.Net.HttpStatusCode.NoContent, grant.StatusCode);

        // The same session picks the role up on its next request.
        await page.GotoAsync(new Uri(portal.BaseAddress, "finance").ToString());
        Assert.Equal("/finance", new Uri(page.Url).AbsolutePath);
        await Assertions.Expect(page.Locator("#finance-empty")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("a[href='/finance']")).ToHaveCountAsync(1);
    }
}
