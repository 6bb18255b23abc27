using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Devnet;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Tests.Browser;

/// <summary>
/// A payout in Chromium against the local devnet: a provider's earnings cross their threshold, one
/// Finance user proposes the batch, another (signed in with the treasury as the Development test wallet)
/// approves it on the batch page and signs it there, the page follows the chain until the batch is paid,
/// and the provider's wallet holds the TON.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Browser")]
public sealed class PayoutBrowserTests(PostgresFixture postgres)
{
    private const string TreasurySeed = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

    [Fact]
    public async Task A_second_finance_user_approves_and_the_treasury_signs_on_the_batch_page()
    {
        var devnetUrl = $"http://127.0.0.1:{FreePort.Next()}";
        await using var devnet = DevnetServer.Build(devnetUrl);
        await devnet.StartAsync();
        using var chain = new HttpClient { BaseAddress = new Uri(devnetUrl) };
        var (code, output, error) = await Node.RunAsync("test/ton-connect-sign.mjs", "v4", TreasurySeed, "0", "address");
        Assert.True(code == 0, error);
        var treasury = JsonDocument.Parse(output).RootElement.GetProperty("address").GetString()!;
        (await chain.PostAsJsonAsync("devnet/faucet", new { address = treasury, amount = "100000000000" })).EnsureSuccessStatusCode();

        var db = await postgres.CreateDatabaseAsync("browser_payouts");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser-payouts", new Dictionary<string, string>
        {
            ["Cocoon__Ton__DevnetUrl"] = devnetUrl,
            ["Cocoon__Ton__Toncenter__BaseUrl"] = devnetUrl,
            ["Cocoon__Ton__DepositAddress"] = treasury,
        });

        // A provider who has earned 2 TON and pays out from 1 TON; a maker who proposes the batch.
        using var providerWallet = new TestWallet();
        var provider = await portal.SignInAsync(providerWallet);
        (await provider.PostAsync("api/account/provider", null)).EnsureSuccessStatusCode();
        var providerId = (await provider.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid();
        (await provider.PutAsJsonAsync("api/payouts/settings", new { threshold = "1000000000" })).EnsureSuccessStatusCode();
        await EndToEnd.PayoutFlowTests.EarnAsync(db, providerId, 2 * Ton.Nano, "browser-earning");

        var maker = await portal.SignInAsync(new TestWallet());
        await GrantFinanceAsync(portal, (await maker.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid());
        await maker.PostAsync("api/finance/payables/refresh", null);
        var itemId = Assert.Single((await maker.GetFromJsonAsync<JsonElement[]>("api/finance/payables"))!).GetProperty("id").GetGuid();
        var batchId = (await (await maker.PostAsJsonAsync("api/finance/payout-batches", new { itemIds = new[] { itemId } })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        // The checker signs in with the treasury's key as the test wallet, and is made Finance.
        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenAsync(new Uri(portal.BaseAddress, "signin"));
        await page.EvaluateAsync("seed => localStorage.setItem('cocoon.test-wallet.seed', seed)", TreasurySeed);
        await page.GotoAsync(new Uri(portal.BaseAddress, "signin?ReturnUrl=%2Fbalance").ToString());
        await page.WaitForSelectorAsync("#cocoon-app[data-interactive=true]", new() { Timeout = 30_000 });
        await page.Locator("#test-wallet-sign-in").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/balance", new() { Timeout = 30_000 });
        var checkerId = await page.EvaluateAsync<string>("async () => (await (await fetch('/api/auth/me')).json()).id");
        await GrantFinanceAsync(portal, Guid.Parse(checkerId));

        // Approve on the batch page, then sign there; the page follows the chain until the batch is paid.
        await page.GotoAsync(new Uri(portal.BaseAddress, $"payouts/batches/{batchId}").ToString());
        await page.WaitForSelectorAsync("#cocoon-app[data-interactive=true]", new() { Timeout = 30_000 });
        await page.Locator("#decision-note textarea, textarea#decision-note").First.FillAsync("Checked against the provider's agents");
        await page.Locator("#approve-batch").ClickAsync();
        await Assertions.Expect(page.Locator("#batch-state")).ToHaveAttributeAsync("data-state", "Approved", new() { Timeout = 30_000 });
        await page.Locator("#sign-batch-test-wallet").ClickAsync();
        await Assertions.Expect(page.Locator("#batch-message")).ToContainTextAsync("Signed 1 payout", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#batch-state")).ToHaveAttributeAsync("data-state", "Paid", new() { Timeout = 60_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repo.ResultsDirectory, "browser-payout-batch.png"), FullPage = true });

        // The provider's wallet holds it, and the provider sees the transaction that paid it.
        var wallet = await chain.GetFromJsonAsync<JsonElement>($"api/v3/wallet?address={Uri.EscapeDataString(providerWallet.Address.ToRaw())}");
        Assert.Equal(2 * Ton.Nano, long.Parse(wallet.GetProperty("balance").GetString()!, CultureInfo.InvariantCulture));
        var paid = Assert.Single((await provider.GetFromJsonAsync<JsonElement[]>("api/payouts"))!);
        Assert.Contains(paid.GetProperty("paidTxHash").GetString()![..16], await provider.GetStringAsync("payouts/mine"), StringComparison.Ordinal);
    }

    private static async Task GrantFinanceAsync(PortalProcess portal, Guid account) =>
        (await portal.Http.PostAsJsonAsync($"api/admin/accounts/{account}/roles", new { role = "Finance", granted = true, reason = "payout browser test" })).EnsureSuccessStatusCode();
}
