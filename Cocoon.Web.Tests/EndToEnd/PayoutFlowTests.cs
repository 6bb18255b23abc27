using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Devnet;
using Cocoon.Shared.Ton;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// Payouts through the real portal and the local devnet: earnings become payable at the provider's
/// threshold, one Finance user proposes a batch and another approves it, the treasury wallet signs the
/// portal's TON Connect request (signed here by @ton/ton, as a wallet would), and the chain's answer pays
/// each item once. Also: double approvals and double submits, a transfer that never lands, a bounce, and
/// a new payout wallet's cooling-off.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class PayoutFlowTests(PostgresFixture postgres) : IAsyncLifetime, IDisposable
{
    private const string TreasurySeed = "5a5b5c5d5e5f606162636465666768696a6b6c6d6e6f70717273747576777879";
    private readonly string _devnetUrl = $"http://127.0.0.1:{FreePort.Next()}/";
    private readonly HttpClient _chain = new();
    private WebApplication _devnet = null!;
    private string _treasury = "";

    public async Task InitializeAsync()
    {
        _devnet = DevnetServer.Build(_devnetUrl);
        await _devnet.StartAsync();
        _chain.BaseAddress = new Uri(_devnetUrl);
        var (code, output, error) = await Node.RunAsync("test/ton-connect-sign.mjs", "v5", TreasurySeed, "0", "address");
        Assert.True(code == 0, error);
        _treasury = JsonDocument.Parse(output).RootElement.GetProperty("address").GetString()!;
        (await _chain.PostAsJsonAsync("devnet/faucet", new { address = _treasury, amount = (1000 * Ton.Nano).ToString(CultureInfo.InvariantCulture) })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Finance_pays_a_provider_once_through_a_batch_two_people_agree_on_and_the_treasury_signs()
    {
        await using var setup = await StartAsync("payouts");
        var (portal, db, provider, providerId, providerWallet, maker, checker, third) = setup;

        // Three TON earned; the provider pays out from 1 TON on (a threshold under 1 TON is refused).
        await EarnAsync(db, providerId, 3 * Ton.Nano, "earned-1");
        Assert.Equal(HttpStatusCode.BadRequest, (await provider.PutAsJsonAsync("api/payouts/settings", new { threshold = "5" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await provider.PutAsJsonAsync("api/payouts/settings", new { threshold = "one" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await provider.PutAsJsonAsync("api/payouts/settings", new { threshold = "1000000000" })).StatusCode);
        Assert.Equal(1, (await (await maker.PostAsync("api/finance/payables/refresh", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("made").GetInt32());
        Assert.Equal(0, (await (await maker.PostAsync("api/finance/payables/refresh", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("made").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, (await provider.GetAsync("api/finance/payables")).StatusCode);
        var payable = Assert.Single((await maker.GetFromJsonAsync<JsonElement[]>("api/finance/payables"))!);
        var itemId = payable.GetProperty("id").GetGuid();
        Assert.Equal("3000000000", payable.GetProperty("amount").GetString());
        Assert.Equal(providerWallet.ToFriendly(bounceable: true, testnet: true), payable.GetProperty("wallet").GetString());

        // The maker proposes; an item goes in one batch only; the maker cannot decide; a rejection needs a reason.
        var created = await maker.PostAsJsonAsync("api/finance/payout-batches", new { itemIds = new[] { itemId } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var batchId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Conflict, (await maker.PostAsJsonAsync("api/finance/payout-batches", new { itemIds = new[] { itemId } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await maker.PostAsJsonAsync("api/finance/payout-batches", new { itemIds = Array.Empty<Guid>() })).StatusCode);
        var own = await maker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/approve", new { note = "mine" });
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Equal("maker_cannot_decide", (await own.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/reject", new { note = " " })).StatusCode);
        Assert.Contains("id=\"maker-waits\"", await maker.GetStringAsync($"payouts/batches/{batchId}"), StringComparison.Ordinal);
        Assert.Contains("id=\"approve-batch\"", await checker.GetStringAsync($"payouts/batches/{batchId}"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, (await maker.GetAsync($"api/finance/payout-batches/{batchId}/transfer")).StatusCode);

        // Two checkers approve at once: one decision is recorded.
        var decisions = await Task.WhenAll(
            checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/approve", new { note = "looks right" }),
            third.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/approve", new { note = "me too" }));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], decisions.Select(d => d.StatusCode).Order());

        // The portal's request, as a wallet reads it: bounceable testnet addresses, decimal amounts, comment payloads.
        Assert.Equal(HttpStatusCode.BadRequest, (await maker.GetAsync($"api/finance/payout-batches/{batchId}/transfer?maxMessages=0")).StatusCode);
        var request = await maker.GetStringAsync($"api/finance/payout-batches/{batchId}/transfer?maxMessages=255");
        var signed = await SignAsync(request);
        Assert.Equal($"cocoon payout {itemId}", Assert.Single(signed.Comments));
        Assert.True(signed.Bounceable.Single() && signed.TestOnly.Single());
        Assert.Equal("-3", JsonDocument.Parse(request).RootElement.GetProperty("network").GetString());

        // Garbage, then the signed message (once: the same BoC again is refused), then nothing left to sign.
        Assert.Equal(HttpStatusCode.BadRequest, (await checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/transfer", new { boc = "bm90IGEgYm9j" })).StatusCode);
        var impostor = await SignAsync(request, seed: new string('7', 64));
        var notTreasury = await checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/transfer", new { boc = impostor.Boc });
        Assert.Equal("not_treasury", (await notTreasury.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var farOff = await SignAsync(request, validUntil: DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds());
        var refused = await checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/transfer", new { boc = farOff.Boc });
        Assert.Equal("valid_until_too_far", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var submitted = await checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/transfer", new { boc = signed.Boc });
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await maker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/transfer", new { boc = signed.Boc })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await maker.GetAsync($"api/finance/payout-batches/{batchId}/transfer")).StatusCode);

        // The chain confirms it (watchers run at once too): paid once, on the ledger and on the chain.
        var batch = await WaitForBatchAsync(maker, batchId, "Paid", parallelChecks: 3);
        var item = Assert.Single(batch.GetProperty("items").EnumerateArray());
        Assert.False(string.IsNullOrEmpty(item.GetProperty("paidTxHash").GetString()));
        Assert.Equal("Confirmed", Assert.Single(batch.GetProperty("transfers").EnumerateArray()).GetProperty("state").GetString());
        Assert.Equal(3 * Ton.Nano, await ChainBalanceAsync(providerWallet));
        var paidTx = item.GetProperty("paidTxHash").GetString()!;
        Assert.Contains("data-state=\"Paid\"", await maker.GetStringAsync($"payouts/batches/{batchId}"), StringComparison.Ordinal);
        Assert.Contains(paidTx[..16], await provider.GetStringAsync("payouts/mine"), StringComparison.Ordinal);
        Assert.Contains("batch-proposed", await maker.GetStringAsync("payouts"), StringComparison.Ordinal);
        await using (var ledger = PortalDb.Open(db))
        {
            Assert.Equal(0, await LedgerBook.BalanceAsync(ledger, LedgerAccountKind.ProviderPayable, providerId, CancellationToken.None));
            Assert.Equal(0, await LedgerBook.BalanceAsync(ledger, LedgerAccountKind.ProviderEarned, providerId, CancellationToken.None));
        }

        Assert.True((await portal.Http.GetFromJsonAsync<LedgerCheck>("api/ledger/verify"))!.Holds);
        var actions = (await maker.GetFromJsonAsync<JsonElement[]>("api/finance/audit"))!.Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.Equal(["payable", "batch-proposed", "batch-approved", "transfer-signed", "transfer-confirmed"], actions.AsEnumerable().Reverse().ToList());
        Assert.StartsWith("id,at,actor,action", await maker.GetStringAsync("api/finance/audit?format=csv"), StringComparison.Ordinal);
        Assert.Contains($"{batchId},Paid,", await maker.GetStringAsync("api/finance/payout-batches?format=csv"), StringComparison.Ordinal);

        // Reconciliation: the payout's transaction is explained by its transfer; the difference is what the ledger does not hold.
        var reconciled = await maker.PostAsync("api/finance/reconciliation", null);
        Assert.Equal(HttpStatusCode.OK, reconciled.StatusCode);
        var run = await reconciled.Content.ReadFromJsonAsync<JsonElement>();
        var lines = run.GetProperty("lines").EnumerateArray().ToList();
        Assert.Contains(lines, l => l.GetProperty("txHash").GetString() == paidTx && l.GetProperty("explainedBy").GetString() == "payout transfer (confirmed)" && l.GetProperty("amount").GetInt64() == -3 * Ton.Nano);
        Assert.Equal(long.Parse(run.GetProperty("chainBalance").GetString()!, CultureInfo.InvariantCulture) - long.Parse(run.GetProperty("ledgerBalance").GetString()!, CultureInfo.InvariantCulture),
            long.Parse(run.GetProperty("difference").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(997 * Ton.Nano, long.Parse(run.GetProperty("chainBalance").GetString()!, CultureInfo.InvariantCulture));
        var next = await (await maker.PostAsync("api/finance/reconciliation", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Empty(next.GetProperty("lines").EnumerateArray());
        Assert.Equal(2, (await maker.GetFromJsonAsync<JsonElement[]>("api/finance/reconciliation"))!.Length);

        // Exports and statements follow the nanotons: earned → payable → paid, with the chain transaction.
        var ledgerCsv = await maker.GetStringAsync("api/finance/export/ledger");
        Assert.Contains($",payable,payout-item:{itemId},", ledgerCsv, StringComparison.Ordinal);
        Assert.Contains(paidTx, ledgerCsv, StringComparison.Ordinal);
        Assert.Contains(itemId.ToString(), await maker.GetStringAsync($"api/finance/export/payouts?from={DateTimeOffset.UtcNow.AddHours(-1):O}".Replace("+", "%2B", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain(itemId.ToString(), await maker.GetStringAsync($"api/finance/export/payouts?to={DateTimeOffset.UtcNow.AddHours(-1):O}".Replace("+", "%2B", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.StartsWith("seq,at,kind", await maker.GetStringAsync("api/finance/export/deposits"), StringComparison.Ordinal);
        var statement = await provider.GetFromJsonAsync<JsonElement>("api/payouts/statement");
        Assert.Equal(("0", "0", "3000000000"), (statement.GetProperty("earned").GetString(), statement.GetProperty("payable").GetString(), statement.GetProperty("paidOut").GetString()));
        Assert.Equal(["test-earning", "payable", "payable", "payout"], statement.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("kind").GetString()).ToList());
        Assert.Equal(statement.GetProperty("lines").GetArrayLength(), (await maker.GetFromJsonAsync<JsonElement>($"api/finance/providers/{providerId}/statement")).GetProperty("lines").GetArrayLength());

        // The provider sees it paid, and once the wallet's side is seen, delivered.
        await Eventually.HoldsAsync(async () =>
        {
            await maker.PostAsync("api/finance/payouts/check", null);
            var mine = Assert.Single((await provider.GetFromJsonAsync<JsonElement[]>("api/payouts"))!);
            return mine.GetProperty("state").GetString() == "Delivered";
        }, TimeSpan.FromSeconds(30), "the payout to be delivered");
    }

    [Fact]
    public async Task Expired_aborted_and_bounced_payouts_are_paid_later_and_nothing_is_paid_twice()
    {
        await using var setup = await StartAsync("payouts-faults");
        var (portal, db, provider, providerId, providerWallet, maker, checker, _) = setup;
        await EarnAsync(db, providerId, 2 * Ton.Nano, "earned-2");
        await provider.PutAsJsonAsync("api/payouts/settings", new { threshold = "1000000000" });
        await maker.PostAsync("api/finance/payables/refresh", null);
        var itemId = Assert.Single((await maker.GetFromJsonAsync<JsonElement[]>("api/finance/payables"))!).GetProperty("id").GetGuid();
        var batchId = (await (await maker.PostAsJsonAsync("api/finance/payout-batches", new { itemIds = new[] { itemId } })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        (await checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/approve", new { note = "ok" })).EnsureSuccessStatusCode();

        // Signed with a seqno the wallet will not take: it never lands, expires after validUntil and the margin, and may be signed again.
        var request = await maker.GetStringAsync($"api/finance/payout-batches/{batchId}/transfer");
        var stale = await SignAsync(request, seqnoOffset: 7, validUntil: DateTimeOffset.UtcNow.AddSeconds(6).ToUnixTimeSeconds());
        Assert.Equal(HttpStatusCode.OK, (await checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/transfer", new { boc = stale.Boc })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await maker.GetAsync($"api/finance/payout-batches/{batchId}/transfer")).StatusCode);
        await Eventually.HoldsAsync(async () =>
        {
            await maker.PostAsync("api/finance/payouts/check", null);
            var batch = await maker.GetFromJsonAsync<JsonElement>($"api/finance/payout-batches/{batchId}");
            return batch.GetProperty("transfers").EnumerateArray().Single().GetProperty("state").GetString() == "Expired";
        }, TimeSpan.FromSeconds(40), "the transfer to expire");

        // Signed again, it lands, but the provider's wallet bounces it: the value comes back to the provider's earnings, with a note.
        (await _chain.PostAsJsonAsync("devnet/faults", new { bounceNext = true })).EnsureSuccessStatusCode();
        var again = await SignAsync(await maker.GetStringAsync($"api/finance/payout-batches/{batchId}/transfer"));
        Assert.Equal(HttpStatusCode.OK, (await checker.PostAsJsonAsync($"api/finance/payout-batches/{batchId}/transfer", new { boc = again.Boc })).StatusCode);
        await Eventually.HoldsAsync(async () =>
        {
            await maker.PostAsync("api/finance/payouts/check", null);
            var mine = Assert.Single((await provider.GetFromJsonAsync<JsonElement[]>("api/payouts"))!);
            return mine.GetProperty("state").GetString() == "Bounced";
        }, TimeSpan.FromSeconds(40), "the payout to bounce");
        var bounced = Assert.Single((await provider.GetFromJsonAsync<JsonElement[]>("api/payouts"))!);
        Assert.Contains("bounced", bounced.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await ChainBalanceAsync(providerWallet));
        await using (var ledger = PortalDb.Open(db))
        {
            Assert.Equal(0, await LedgerBook.BalanceAsync(ledger, LedgerAccountKind.ProviderPayable, providerId, CancellationToken.None));
            Assert.Equal(2 * Ton.Nano, await LedgerBook.BalanceAsync(ledger, LedgerAccountKind.ProviderEarned, providerId, CancellationToken.None));
        }

        Assert.True((await portal.Http.GetFromJsonAsync<LedgerCheck>("api/ledger/verify"))!.Holds);
        Assert.Empty((await maker.GetFromJsonAsync<JsonElement[]>("api/finance/payables"))!);

        // A new payout wallet needs its own proof, and holds payouts for the cooling-off period.
        using var newWallet = new TestWallet();
        Assert.Equal(HttpStatusCode.BadRequest, (await provider.PostAsJsonAsync("api/payouts/wallet", new { address = "nope" })).StatusCode);
        var changed = await newWallet.ProveAsync(provider, "api/payouts/wallet");
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var settings = await changed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(newWallet.Address.ToRaw(), settings.GetProperty("wallet").GetString());
        Assert.NotEqual(JsonValueKind.Null, settings.GetProperty("holdUntil").ValueKind);
        await EarnAsync(db, providerId, 2 * Ton.Nano, "earned-3");
        Assert.Equal(0, (await (await maker.PostAsync("api/finance/payables/refresh", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("made").GetInt32());
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1, (await (await maker.PostAsync("api/finance/payables/refresh", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("made").GetInt32());
        var fresh = (await maker.GetFromJsonAsync<JsonElement[]>("api/finance/payables"))!.Single(p => p.GetProperty("id").GetGuid() != itemId);
        Assert.Equal(newWallet.Address.ToFriendly(bounceable: true, testnet: true), fresh.GetProperty("wallet").GetString());
        Assert.Contains(fresh.GetProperty("flags").EnumerateArray(), f => f.GetString()!.StartsWith("payout wallet changed", StringComparison.Ordinal));

        // A payout the treasury cannot cover: its transaction aborts, nothing is paid, and the item may be signed again.
        var freshId = fresh.GetProperty("id").GetGuid();
        await EarnAsync(db, providerId, 5000 * Ton.Nano, "earned-4");
        await maker.PostAsync("api/finance/payables/refresh", null);
        var large = (await maker.GetFromJsonAsync<JsonElement[]>("api/finance/payables"))!.Single(p => p.GetProperty("amount").GetString() == "5000000000000").GetProperty("id").GetGuid();
        var tooLarge = (await (await maker.PostAsJsonAsync("api/finance/payout-batches", new { itemIds = new[] { large } })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        (await checker.PostAsJsonAsync($"api/finance/payout-batches/{tooLarge}/approve", new { note = "large" })).EnsureSuccessStatusCode();
        var uncovered = await SignAsync(await maker.GetStringAsync($"api/finance/payout-batches/{tooLarge}/transfer"), validUntil: DateTimeOffset.UtcNow.AddSeconds(6).ToUnixTimeSeconds());
        Assert.Equal(HttpStatusCode.OK, (await checker.PostAsJsonAsync($"api/finance/payout-batches/{tooLarge}/transfer", new { boc = uncovered.Boc })).StatusCode);
        await Eventually.HoldsAsync(async () =>
        {
            await maker.PostAsync("api/finance/payouts/check", null);
            var batch = await maker.GetFromJsonAsync<JsonElement>($"api/finance/payout-batches/{tooLarge}");
            return batch.GetProperty("transfers").EnumerateArray().Single().GetProperty("state").GetString() == "Failed";
        }, TimeSpan.FromSeconds(30), "the uncovered transfer to fail");
        Assert.Equal("In batch", (await maker.GetFromJsonAsync<JsonElement>($"api/finance/payout-batches/{tooLarge}")).GetProperty("items").EnumerateArray().Single().GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await maker.GetAsync($"api/finance/payout-batches/{tooLarge}/transfer")).StatusCode);

        // A BoC already taken is refused for any batch; two signers at once with their own signatures of the same payouts: one is taken.
        var second = (await (await maker.PostAsJsonAsync("api/finance/payout-batches", new { itemIds = new[] { freshId } })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        (await checker.PostAsJsonAsync($"api/finance/payout-batches/{second}/approve", new { note = "new wallet checked by phone" })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Conflict, (await checker.PostAsJsonAsync($"api/finance/payout-batches/{second}/transfer", new { boc = again.Boc })).StatusCode);
        var forSecond = await maker.GetStringAsync($"api/finance/payout-batches/{second}/transfer");
        var first = await SignAsync(forSecond, validUntil: DateTimeOffset.UtcNow.AddMinutes(2).ToUnixTimeSeconds());
        var rival = await SignAsync(forSecond, validUntil: DateTimeOffset.UtcNow.AddMinutes(2).AddSeconds(1).ToUnixTimeSeconds());
        (await _chain.PostAsJsonAsync("devnet/faults", new { indexingDelaySeconds = 4 })).EnsureSuccessStatusCode();
        var signers = await Task.WhenAll(
            checker.PostAsJsonAsync($"api/finance/payout-batches/{second}/transfer", new { boc = first.Boc }),
            maker.PostAsJsonAsync($"api/finance/payout-batches/{second}/transfer", new { boc = rival.Boc }));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], signers.Select(r => r.StatusCode).Order());

        // The portal restarts between signing and confirmation (the chain is slow to index): the payout is made once.
        await portal.StopAsync();
        setup.Restarted = await PortalProcess.StartAsync(db, setup.Port, "portal-payouts-faults-2", setup.Settings);
        var makerAgain = await setup.Restarted.SignInAsync(setup.MakerWallet);
        await WaitForBatchAsync(makerAgain, second, "Paid", parallelChecks: 2);
        (await _chain.PostAsJsonAsync("devnet/faults", new { indexingDelaySeconds = 0 })).EnsureSuccessStatusCode();
        Assert.Equal(4 * Ton.Nano, await ChainBalanceAsync(newWallet.Address));
        await using (var ledger = PortalDb.Open(db))
        {
            Assert.Equal(1, await ledger.Set<LedgerTransaction>().CountAsync(t => t.Kind == "payout" && t.Reference.StartsWith($"payout:{freshId}:")));
        }

        Assert.True((await setup.Restarted.Http.GetFromJsonAsync<LedgerCheck>("api/ledger/verify"))!.Holds);
    }

    private sealed record Setup(PortalProcess Portal, string Db, HttpClient Provider, Guid ProviderId, TonAddress ProviderWallet, HttpClient Maker, HttpClient Checker, HttpClient Third) : IAsyncDisposable
    {
        public required int Port { get; init; }

        public required Dictionary<string, string> Settings { get; init; }

        public required TestWallet MakerWallet { get; init; }

        /// <summary>A portal started again on the same database and port (after a restart); disposed with the setup.</summary>
        public PortalProcess? Restarted { get; set; }

        public async ValueTask DisposeAsync()
        {
            await Portal.DisposeAsync();
            if (Restarted is not null)
            {
                await Restarted.DisposeAsync();
            }
        }
    }

    private async Task<Setup> StartAsync(string name)
    {
        var db = await postgres.CreateDatabaseAsync("e2e_" + name.Replace('-', '_'));
        var port = FreePort.Next();
        var settings = new Dictionary<string, string>
        {
            ["Cocoon__Ton__Toncenter__BaseUrl"] = _devnetUrl,
            ["Cocoon__Ton__DepositAddress"] = _treasury,
            ["Cocoon__Ton__Network"] = "testnet",
            ["Cocoon__Payouts__ExpiryMargin"] = "00:00:01",
            ["Cocoon__Payouts__WalletCoolingOff"] = "00:00:03",
        };
        var portal = await PortalProcess.StartAsync(db, port, "portal-" + name, settings);
        var wallet = new TestWallet();
        var provider = await portal.SignInAsync(wallet);
        (await provider.PostAsync("api/account/provider", null)).EnsureSuccessStatusCode();
        var providerId = (await provider.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid();
        var finance = new List<HttpClient>();
        var makerWallet = new TestWallet();
        for (var i = 0; i < 3; i++)
        {
            var client = await portal.SignInAsync(i == 0 ? makerWallet : new TestWallet());
            var id = (await client.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid();
            (await portal.Http.PostAsJsonAsync($"api/admin/accounts/{id}/roles", new { role = "Finance", granted = true, reason = "payout test" })).EnsureSuccessStatusCode();
            finance.Add(client);
        }

        return new Setup(portal, db, provider, providerId, wallet.Address, finance[0], finance[1], finance[2]) { Port = port, Settings = settings, MakerWallet = makerWallet };
    }

    /// <summary>Earnings as settled units would leave them (the money comes from the treasury side here; MoneyFlowTests earns them for real).</summary>
    internal static async Task EarnAsync(string database, Guid provider, long amount, string reference)
    {
        await using var ledger = PortalDb.Open(database);
        await using var tx = await ledger.Database.BeginTransactionAsync();
        var now = DateTimeOffset.UtcNow;
        var treasury = await LedgerBook.AccountAsync(ledger, LedgerAccountKind.PlatformTreasury, null, now, CancellationToken.None);
        var earned = await LedgerBook.AccountAsync(ledger, LedgerAccountKind.ProviderEarned, provider, now, CancellationToken.None);
        await LedgerBook.PostAsync(ledger, "test-earning", reference, "Earnings for the payout test", null, [(treasury, -amount), (earned, amount)], now, CancellationToken.None);
        await tx.CommitAsync();
    }

    private sealed record Signed(string Boc, string[] Comments, bool[] Bounceable, bool[] TestOnly);

    /// <summary>Signs the portal's TON Connect request with the treasury wallet, as the wallet app would (its seqno read from the chain).</summary>
    private async Task<Signed> SignAsync(string request, int seqnoOffset = 0, long? validUntil = null, string seed = TreasurySeed)
    {
        var wallet = await _chain.GetFromJsonAsync<JsonElement>($"api/v3/wallet?address={Uri.EscapeDataString(_treasury)}");
        var seqno = wallet.GetProperty("seqno").GetInt32() + seqnoOffset;
        var (code, output, error) = await Node.RunAsync("test/ton-connect-sign.mjs", "v5", seed, seqno.ToString(CultureInfo.InvariantCulture), request,
            validUntil?.ToString(CultureInfo.InvariantCulture) ?? "");
        Assert.True(code == 0, error);
        var result = JsonDocument.Parse(output).RootElement;
        return new Signed(
            result.GetProperty("boc").GetString()!,
            [.. result.GetProperty("comments").EnumerateArray().Select(c => c.GetString()!)],
            [.. result.GetProperty("bounceable").EnumerateArray().Select(c => c.GetBoolean())],
            [.. result.GetProperty("testOnly").EnumerateArray().Select(c => c.GetBoolean())]);
    }

    private async Task<long> ChainBalanceAsync(TonAddress address) =>
        long.Parse((await _chain.GetFromJsonAsync<JsonElement>($"api/v3/wallet?address={Uri.EscapeDataString(address.ToRaw())}")).GetProperty("balance").GetString()!, CultureInfo.InvariantCulture);

    private static async Task<JsonElement> WaitForBatchAsync(HttpClient finance, Guid batchId, string state, int parallelChecks = 1)
    {
        JsonElement batch = default;
        await Eventually.HoldsAsync(async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, parallelChecks).Select(_ => finance.PostAsync("api/finance/payouts/check", null)));
            batch = await finance.GetFromJsonAsync<JsonElement>($"api/finance/payout-batches/{batchId}");
            return batch.GetProperty("state").GetString() == state;
        }, TimeSpan.FromSeconds(40), $"batch {batchId} to be {state}", 250);
        return batch;
    }

    public void Dispose() => _chain.Dispose();

    public async Task DisposeAsync()
    {
        await _devnet.StopAsync();
        await _devnet.DisposeAsync();
    }
}
