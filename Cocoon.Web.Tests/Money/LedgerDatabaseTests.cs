using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Tests.Money;

/// <summary>
/// What the database itself guarantees of the ledger, against real PostgreSQL: balanced transactions,
/// append-only entries, a hash chain that a tampered entry breaks, no negative balance, each movement once.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class LedgerDatabaseTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task The_database_refuses_an_unbalanced_transaction_and_any_change_to_an_entry()
    {
        var connection = await MigratedAsync("ledger_refusals");
        var developer = Guid.NewGuid();
        await using (var db = PortalDb.Open(connection))
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            Assert.True(await Deposits.CreditAsync(db, developer, 5 * Ton.Nano, "hash-1", "test deposit", Now, CancellationToken.None));
            await tx.CommitAsync();
        }

        // One leg alone, written around the C# check: refused when the transaction commits.
        await using (var db = PortalDb.Open(connection))
        {
            var account = await db.Set<LedgerAccount>().Where(a => a.Code == LedgerBook.Code(LedgerAccountKind.DeveloperAvailable, developer)).Select(a => a.Id).SingleAsync();
            await using var tx = await db.Database.BeginTransactionAsync();
            var id = Guid.NewGuid();
            await db.Database.ExecuteSqlAsync($"INSERT INTO ledger_transactions (id, kind, reference, memo, created_at) VALUES ({id}, 'gift', 'x', 'money from nowhere', {Now})");
            await db.Database.ExecuteSqlAsync($"INSERT INTO ledger_entries (seq, transaction_id, account_id, amount, prev_hash, hash, created_at) VALUES (0, {id}, {account}, 1000, ''::bytea, ''::bytea, {Now})");
            var refused = await Assert.ThrowsAsync<PostgresException>(() => tx.CommitAsync());
            Assert.Contains("does not balance", refused.MessageText, StringComparison.Ordinal);
        }

        // Entries and transactions cannot be changed or removed, even by the portal's own connection.
        foreach (var statement in new[] { "UPDATE ledger_entries SET amount = amount * 2", "DELETE FROM ledger_entries", "TRUNCATE ledger_entries CASCADE", "UPDATE ledger_transactions SET memo = 'edited'", "DELETE FROM ledger_transactions" })
        {
            await using var db = PortalDb.Open(connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync(statement));
            Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
        }

        await using (var db = PortalDb.Open(connection))
        {
            var check = await new LedgerVerifier(db).VerifyAsync(CancellationToken.None);
            Assert.True(check.Holds, check.ToString());
            Assert.Equal(2, check.Entries);
            Assert.Equal(5 * Ton.Nano, await LedgerBook.BalanceAsync(db, LedgerAccountKind.DeveloperAvailable, developer, CancellationToken.None));
        }
    }

    [Fact]
    public async Task A_tampered_entry_breaks_the_chain_and_the_balances()
    {
        var connection = await MigratedAsync("ledger_tamper");
        var developer = Guid.NewGuid();
        await using (var db = PortalDb.Open(connection))
        {
            for (var i = 0; i < 5; i++)
            {
                await using var tx = await db.Database.BeginTransactionAsync();
                await Deposits.CreditAsync(db, developer, (i + 1) * Ton.Nano, $"hash-{i}", "deposit", Now, CancellationToken.None);
                await tx.CommitAsync();
            }
        }

        // The command-line check agrees, from a shell.
        var (code, output) = await VerifyCommandAsync(connection, "intact");
        Assert.Equal(0, code);
        Assert.Contains("The books hold.", output, StringComparison.Ordinal);

        // Someone with the database's owner rights goes around the triggers and changes one amount.
        await using (var db = PortalDb.Open(connection))
        {
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only");
            await db.Database.ExecuteSqlRawAsync("UPDATE ledger_entries SET amount = amount + 1 WHERE seq = 6");
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only");
            var check = await new LedgerVerifier(db).VerifyAsync(CancellationToken.None);
            Assert.False(check.Holds);
            Assert.False(check.ChainIntact);
            Assert.Equal(6, check.FirstBrokenSeq);
            Assert.NotEmpty(check.UnbalancedTransactions);
            Assert.NotEmpty(check.MismatchedAccounts);
        }

        (code, output) = await VerifyCommandAsync(connection, "tampered");
        Assert.Equal(1, code);
        Assert.Contains("BROKEN at entry 6", output, StringComparison.Ordinal);
        Assert.Contains("The books do NOT hold.", output, StringComparison.Ordinal);
        (code, output) = await VerifyCommandAsync("", "no-database");
        Assert.Equal(2, code);
        Assert.Contains("needs the portal's database", output, StringComparison.Ordinal);
    }

    /// <summary>Runs <c>Cocoon.Web ledger verify</c> against the database; its exit code and output.</summary>
    private static async Task<(int Code, string Output)> VerifyCommandAsync(string connection, string logName)
    {
        await using var command = ChildProcess.StartDotnet(Repo.PortalDll, ["ledger", "verify"],
            new Dictionary<string, string> { ["ConnectionStrings__Cocoon"] = connection }, $"ledger-verify-{logName}");
        var code = await command.WaitForExitAsync(TimeSpan.FromMinutes(1));
        await Task.Delay(100); // the last lines of output arrive after the exit
        return (code, command.Output);
    }

    [Fact]
    public async Task No_balance_goes_negative_and_each_movement_happens_once_under_concurrency()
    {
        var connection = await MigratedAsync("ledger_concurrency");
        var developer = Guid.NewGuid();
        var provider = Guid.NewGuid();
        await RunAsync(connection, db => Deposits.CreditAsync(db, developer, 10 * Ton.Nano, "seed", "deposit", Now, CancellationToken.None));

        // The same chain transaction credited by eight watchers at once: once.
        var credited = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RunAsync(connection, db => Deposits.CreditAsync(db, developer, 3 * Ton.Nano, "same-hash", "deposit", Now, CancellationToken.None))));
        Assert.Single(credited, c => c);

        // Twenty jobs of 2 TON each against 13 TON, all at once: six are held, none overdraws.
        var jobs = Enumerable.Range(0, 20).Select(i => new BilledJob(Guid.NewGuid(), $"job {i}", developer, 2 * Ton.Nano)).ToList();
        var held = await Task.WhenAll(jobs.Select(job => HoldAsync(connection, job)));
        Assert.Equal(6, held.Count(h => h));
        var heldJob = jobs[Array.IndexOf(held, true)];

        // One unit's success reported eight times at once: settled once.
        var unit = new BilledUnit(Guid.NewGuid(), 0);
        var agent = new RegisteredAgentOwner(Guid.NewGuid(), "gpu", provider);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RunAsync(connection, async db =>
        {
            await Billing.SettleAsync(db, heldJob, unit, agent, Ton.Nano, Ton.Nano / 10, Now, CancellationToken.None);
            return true;
        })));

        await using var check = PortalDb.Open(connection);
        Assert.Equal(Ton.Nano, await LedgerBook.BalanceAsync(check, LedgerAccountKind.ProviderEarned, provider, CancellationToken.None));
        Assert.Equal((2 * Ton.Nano) - (11 * Ton.Nano / 10), await Billing.HeldForJobAsync(check, heldJob, CancellationToken.None));
        Assert.Equal(1, await Billing.ChargedAsync(check, heldJob.Id, CancellationToken.None) / (11 * Ton.Nano / 10));
        Assert.Equal(Ton.Nano, await LedgerBook.BalanceAsync(check, LedgerAccountKind.DeveloperAvailable, developer, CancellationToken.None));
        var verified = await new LedgerVerifier(check).VerifyAsync(CancellationToken.None);
        Assert.True(verified.Holds, verified.ToString());
    }

    private static async Task<bool> HoldAsync(string connection, BilledJob job)
    {
        try
        {
            return await RunAsync(connection, async db =>
            {
                await Billing.HoldAsync(db, job, Now, CancellationToken.None);
                return true;
            });
        }
        catch (InsufficientFundsException ex)
        {
            Assert.True(ex.Shortfall > 0);
            return false;
        }
    }

    internal static async Task<T> RunAsync<T>(string connection, Func<CocoonDbContext, Task<T>> work)
    {
        await using var db = PortalDb.Open(connection);
        await using var tx = await db.Database.BeginTransactionAsync();
        var result = await work(db);
        await tx.CommitAsync();
        return result;
    }

    private async Task<string> MigratedAsync(string name)
    {
        var connection = await postgres.CreateDatabaseAsync(name);
        await using var db = PortalDb.Open(connection);
        await db.Database.MigrateAsync();
        return connection;
    }
}
