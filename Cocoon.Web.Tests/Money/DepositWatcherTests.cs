using System.Net.Http.Json;
using Cocoon.Devnet;
using Cocoon.Shared.Ton;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money.Chain;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Tests.Money;

/// <summary>
/// The chain watcher against the local devnet and real PostgreSQL: transfers signed by a real wallet
/// implementation reach the platform's address and are credited once each, to the account their
/// comment names; unknown comments and small amounts wait for finance; aborted and bounced transfers
/// credit nothing; 429s are retried, late indexing is picked up on the next pass, and two watchers at
/// once credit nothing twice.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DepositWatcherTests(PostgresFixture postgres) : IAsyncLifetime, IDisposable
{
    private const string Seed = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
    private static readonly TonAddress Platform = new(0, System.Security.Cryptography.SHA256.HashData("cocoon-test-platform"u8));
    private readonly string _url = $"http://127.0.0.1:{FreePort.Next()}/";
    private readonly HttpClient _http = new();
    private WebApplication _devnet = null!;
    private int _seqno;
    private string _sender = "";

    public async Task InitializeAsync()
    {
        _devnet = DevnetServer.Build(_url);
        await _devnet.StartAsync();
        _http.BaseAddress = new Uri(_url);
    }

    [Fact]
    public async Task Each_incoming_transfer_is_credited_once_to_the_account_its_comment_names()
    {
        var connection = await postgres.CreateDatabaseAsync("deposit_watcher");
        await using (var db = PortalDb.Open(connection))
        {
            await db.Database.MigrateAsync();
        }

        var developer = Guid.NewGuid();
        const string code = "cocoon-testcode42";
        await using (var db = PortalDb.Open(connection))
        {
            db.Add(new DepositCode { AccountId = developer, Code = code, CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        var watcher = Watcher(connection);
        await SendAsync("2000000000", $"  {code.ToUpperInvariant()} ");   // credited (comments compare trimmed, any case)
        await SendAsync("1000000000", "hello");                            // unattributed: no account
        await SendAsync("50000000", code);                                 // unattributed: below the 0.1 TON minimum
        await _http.PostAsJsonAsync("devnet/faults", new { bounceNext = true });
        await SendAsync("3000000000", code, bounce: true);                 // bounced: nothing
        await _http.PostAsJsonAsync("devnet/faults", new { abortNext = true });
        await SendAsync("4000000000", code);                               // aborted, not bounceable: the value stayed, so finance sees it

        // Two passes at once, after the API has refused twice: each transfer once.
        await _http.PostAsJsonAsync("devnet/faults", new { failNext = 2, failStatus = 429 });
        var passes = await Task.WhenAll(watcher.RunAsync(CancellationToken.None), Watcher(connection).RunAsync(CancellationToken.None));
        Assert.Equal(1, passes.Sum(p => p.Credited));
        Assert.Equal(3, passes.Sum(p => p.Unattributed));
        Assert.Equal(new WatchResult(0, 0, 0, 0), await watcher.RunAsync(CancellationToken.None)); // past the cursor: nothing is read again

        // Indexed late: not there on this pass, credited on the next.
        await _http.PostAsJsonAsync("devnet/faults", new { indexingDelaySeconds = 1.5 });
        await SendAsync("500000000", code);
        Assert.Equal(0, (await watcher.RunAsync(CancellationToken.None)).Credited);
        await Task.Delay(TimeSpan.FromSeconds(1.7));
        Assert.Equal(1, (await watcher.RunAsync(CancellationToken.None)).Credited);

        // Finance places the deposit with the unknown comment: on the account that signed in with the wallet it names, once.
        var wallet = new TonAddress(0, new byte[32] { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 });
        var claimant = Guid.NewGuid();
        await using (var db = PortalDb.Open(connection))
        {
            db.Add(new Cocoon.Web.Features.Identity.Account { Id = claimant, Address = wallet.ToRaw(), FriendlyAddress = wallet.ToFriendly(), PublicKey = "00", WalletVersion = "V4R2" });
            await db.SaveChangesAsync();
            var waiting = await Cocoon.Web.Features.Money.Unattributed.ListAsync(db, CancellationToken.None);
            Assert.Equal(3, waiting.Count);
            var hello = waiting.Single(d => d.Memo.Contains("hello", StringComparison.Ordinal));
            await Assert.ThrowsAsync<Cocoon.Web.Features.Money.InvalidAssignmentException>(() => Cocoon.Web.Features.Money.Unattributed.AssignAsync(db, hello.Hash, "not an address", "finance", DateTimeOffset.UtcNow, CancellationToken.None));
            await Cocoon.Web.Features.Money.Unattributed.AssignAsync(db, hello.Hash, wallet.ToFriendly(), "finance", DateTimeOffset.UtcNow, CancellationToken.None);
            await Assert.ThrowsAsync<Cocoon.Web.Features.Money.InvalidAssignmentException>(() => Cocoon.Web.Features.Money.Unattributed.AssignAsync(db, hello.Hash, wallet.ToFriendly(), "finance", DateTimeOffset.UtcNow, CancellationToken.None));
            Assert.Equal(2, (await Cocoon.Web.Features.Money.Unattributed.ListAsync(db, CancellationToken.None)).Count);
            Assert.Equal(1_000_000_000, await LedgerBook.BalanceAsync(db, LedgerAccountKind.DeveloperAvailable, claimant, CancellationToken.None));
        }

        await using var check = PortalDb.Open(connection);
        Assert.Equal(2_500_000_000, await LedgerBook.BalanceAsync(check, LedgerAccountKind.DeveloperAvailable, developer, CancellationToken.None));
        Assert.Equal(4_050_000_000, await LedgerBook.BalanceAsync(check, LedgerAccountKind.PlatformUnattributed, null, CancellationToken.None));
        Assert.Equal(-7_550_000_000, await LedgerBook.BalanceAsync(check, LedgerAccountKind.PlatformTreasury, null, CancellationToken.None));
        Assert.True((await new LedgerVerifier(check).VerifyAsync(CancellationToken.None)).Holds);
    }

    /// <summary>A chain answer is input too: malformed pages credit nothing and move nothing; a transfer with a body that is not a cell is not lost.</summary>
    [Fact]
    public async Task Malformed_chain_answers_credit_nothing_and_lose_nothing()
    {
        var connection = await postgres.CreateDatabaseAsync("deposit_watcher_hostile");
        await using (var db = PortalDb.Open(connection))
        {
            await db.Database.MigrateAsync();
        }

        var answer = "";
        var url = $"http://127.0.0.1:{FreePort.Next()}/";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        await using var toncenter = builder.Build();
        toncenter.MapGet("/api/v3/transactions", () => Results.Text(answer, "application/json"));
        await toncenter.StartAsync();
        var options = Options.Create(new TonOptions { DepositAddress = Platform.ToRaw(), Toncenter = new() { BaseUrl = url }, MinimumDeposit = 1 });
        var watcher = new DepositWatcher(new Factory(connection), new ToncenterClient(new HttpClient(), options, NullLogger<ToncenterClient>.Instance), options, TimeProvider.System, NullLogger<DepositWatcher>.Instance);
        static string Page(string transaction) => """{"transactions":[""" + transaction + """],"address_book":{}}""";
        var hash = Convert.ToBase64String(new byte[32]);

        foreach (var malformed in new[]
        {
            "not json",
            """{"no_transactions":true}""",
            Page($$$"""{"hash":"{{{hash}}}","lt":"12","in_msg":{"source":"0:AB","value":"99999999999999999999999"}}"""),
            Page("""{"hash":"short","lt":"12","in_msg":{"source":"0:AB","value":"5"}}"""),
            Page($$$"""{"hash":"{{{hash}}}","lt":"-3"}"""),
        })
        {
            answer = malformed;
            await Assert.ThrowsAsync<HttpRequestException>(() => watcher.RunAsync(CancellationToken.None));
        }

        await using (var db = PortalDb.Open(connection))
        {
            Assert.False(await db.Set<LedgerTransaction>().AnyAsync());
            Assert.False(await db.Set<DepositCursor>().AnyAsync());
        }

        // A real transfer whose body is not a cell: its comment is unreadable, so finance gets it rather than nobody.
        answer = Page("""{"hash":""" + $"\"{hash}\"" + ""","lt":"12","description":{"aborted":false},"in_msg":{"source":"0:AB","value":"7","bounce":false,"bounced":false,"message_content":{"body":"bm90IGEgY2VsbA=="}}}""");
        Assert.Equal(1, (await watcher.RunAsync(CancellationToken.None)).Unattributed);
        await using var check = PortalDb.Open(connection);
        Assert.Equal(7, await LedgerBook.BalanceAsync(check, LedgerAccountKind.PlatformUnattributed, null, CancellationToken.None));
        await toncenter.StopAsync();
    }

    [Fact]
    public void Settings_are_checked_by_name()
    {
        Assert.Empty(new TonOptions().Problems());
        var problems = new TonOptions { Network = "moon", DepositAddress = "nope", Toncenter = new() { BaseUrl = "ftp://x" }, MinimumDeposit = -1 }.Problems().ToList();
        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("Network", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("DepositAddress", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("BaseUrl", StringComparison.Ordinal));

        // Outside Development: no devnet, and an indexer over https elsewhere (deposits are credited from what it says).
        var local = new TonOptions { DepositAddress = Platform.ToRaw(), Toncenter = new() { BaseUrl = "http://127.0.0.1:8081" }, DevnetUrl = "http://127.0.0.1:8081" };
        Assert.Empty(local.Problems(development: true));
        Assert.Equal(2, local.Problems(development: false).Count());

        // A person may ask for a look at the chain once every ten seconds (each costs toncenter requests).
        var someone = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        Assert.True(DepositWatcher.MayCheckNow(someone, at));
        Assert.False(DepositWatcher.MayCheckNow(someone, at.AddSeconds(5)));
        Assert.True(DepositWatcher.MayCheckNow(someone, at.AddSeconds(11)));
        Assert.True(DepositWatcher.MayCheckNow(Guid.NewGuid(), at.AddSeconds(5)));
    }

    private DepositWatcher Watcher(string connection)
    {
        var options = Options.Create(new TonOptions { Network = "testnet", DepositAddress = Platform.ToRaw(), Toncenter = new() { BaseUrl = _url }, MinimumDeposit = 100_000_000 });
        return new DepositWatcher(new Factory(connection), new ToncenterClient(new HttpClient(), options, NullLogger<ToncenterClient>.Instance), options, TimeProvider.System, NullLogger<DepositWatcher>.Instance);
    }

    private async Task SendAsync(string amount, string comment, bool bounce = false)
    {
        var message = await DevnetTests.MessageAsync("v4", _seqno, DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(), amount, comment, bounce, Seed, Platform.ToRaw());
        if (_seqno == 0)
        {
            _sender = message.Address;
            await _http.PostAsJsonAsync("devnet/faucet", new { address = _sender, amount = "100000000000" });
        }

        var sent = await _http.PostAsJsonAsync("api/v2/sendBoc", new { boc = message.Boc });
        Assert.True(sent.IsSuccessStatusCode, await sent.Content.ReadAsStringAsync());
        _seqno++;
    }

    private sealed class Factory(string connection) : IDbContextFactory<CocoonDbContext>
    {
        public CocoonDbContext CreateDbContext() => PortalDb.Open(connection);
    }

    public void Dispose() => _http.Dispose();

    public async Task DisposeAsync()
    {
        await _devnet.StopAsync();
        await _devnet.DisposeAsync();
    }
}
