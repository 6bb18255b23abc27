using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Payouts;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Cocoon.Web.Tests.Money;

/// <summary>
/// What the database itself holds of payouts, whatever the C# above it does: maker and checker are two
/// people, both Finance when the batch is approved; a batch moves only forward; the audit log cannot be
/// changed; a paid item names the one transfer and transaction that paid it.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PayoutDatabaseTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Maker_and_checker_are_two_finance_users_and_the_audit_log_is_append_only()
    {
        var connection = await postgres.CreateDatabaseAsync("payout_rules");
        await using (var migrate = PortalDb.Open(connection))
        {
            await migrate.Database.MigrateAsync();
        }

        var maker = await AccountAsync(connection, finance: true);
        var checker = await AccountAsync(connection, finance: true);
        var outsider = await AccountAsync(connection, finance: false);
        var batch = await BatchAsync(connection, maker);

        // The maker deciding their own batch, and someone who is not Finance deciding it, are refused by the database.
        Assert.Equal("23514", await RefusedAsync(connection, $"UPDATE payout_batches SET state = 'Approved', decided_by = '{maker}' WHERE id = '{batch}'"));
        Assert.Contains("Finance", await RefusedMessageAsync(connection, $"UPDATE payout_batches SET state = 'Approved', decided_by = '{outsider}' WHERE id = '{batch}'"), StringComparison.Ordinal);

        // A maker who lost the Finance role meanwhile: their batch cannot be approved.
        await using (var db = PortalDb.Open(connection))
        {
            await db.Database.ExecuteSqlAsync($"DELETE FROM account_roles WHERE account_id = {maker}");
        }

        Assert.Contains("maker", await RefusedMessageAsync(connection, $"UPDATE payout_batches SET state = 'Approved', decided_by = '{checker}' WHERE id = '{batch}'"), StringComparison.Ordinal);

        // A rejection by another Finance user stands; a decided batch cannot be decided again, nor its totals changed.
        await using (var db = PortalDb.Open(connection))
        {
            Assert.Equal(1, await db.Database.ExecuteSqlAsync($"UPDATE payout_batches SET state = 'Rejected', decided_by = {checker} WHERE id = {batch}"));
        }

        Assert.Contains("cannot go from", await RefusedMessageAsync(connection, $"UPDATE payout_batches SET state = 'Approved' WHERE id = '{batch}'"), StringComparison.Ordinal);
        Assert.Contains("do not change", await RefusedMessageAsync(connection, $"UPDATE payout_batches SET total = 1 WHERE id = '{batch}'"), StringComparison.Ordinal);
        Assert.Contains("kept", await RefusedMessageAsync(connection, $"DELETE FROM payout_batches WHERE id = '{batch}'"), StringComparison.Ordinal);

        // Nor can a batch be inserted already approved.
        Assert.Contains("starts proposed", await RefusedMessageAsync(connection,
            $"INSERT INTO payout_batches (id, state, created_by, created_at, decided_by, total, item_count) VALUES ('{Guid.NewGuid()}', 'Approved', '{maker}', now(), '{checker}', 1, 1)"), StringComparison.Ordinal);

        // The audit log: written, never changed or removed.
        await using (var db = PortalDb.Open(connection))
        {
            db.Add(new PayoutAudit { At = DateTimeOffset.UtcNow, ActorId = maker, Action = "batch-proposed", Detail = "test", BatchId = batch });
            await db.SaveChangesAsync();
        }

        Assert.Contains("append-only", await RefusedMessageAsync(connection, "UPDATE payout_audit SET detail = 'edited'"), StringComparison.Ordinal);
        Assert.Contains("append-only", await RefusedMessageAsync(connection, "DELETE FROM payout_audit"), StringComparison.Ordinal);

        // A paid item must name what paid it.
        await using (var db = PortalDb.Open(connection))
        {
            db.Add(new PayoutItem { Id = Guid.NewGuid(), AccountId = maker, Wallet = "0:" + new string('1', 64), Amount = 5, State = PayoutItemState.Payable, CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        Assert.Equal("23514", await RefusedAsync(connection, "UPDATE payout_items SET state = 'Paid'"));
        Assert.Equal("23514", await RefusedAsync(connection, "UPDATE payout_items SET amount = 0"));
    }

    private static async Task<Guid> AccountAsync(string connection, bool finance)
    {
        await using var db = PortalDb.Open(connection);
        var id = Guid.NewGuid();
        var wallet = new Cocoon.Shared.Ton.TonAddress(0, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        db.Add(new Account { Id = id, Address = wallet.ToRaw(), FriendlyAddress = wallet.ToFriendly(), PublicKey = "00", WalletVersion = "v4r2", CreatedAt = DateTimeOffset.UtcNow, LastSignInAt = DateTimeOffset.UtcNow });
        if (finance)
        {
            db.Add(new AccountRole { AccountId = id, Role = Role.Finance, GrantedAt = DateTimeOffset.UtcNow });
        }

        await db.SaveChangesAsync();
        return id;
    }

    private static async Task<Guid> BatchAsync(string connection, Guid maker)
    {
        await using var db = PortalDb.Open(connection);
        var batch = new PayoutBatch { Id = Guid.NewGuid(), State = PayoutBatchState.Proposed, CreatedBy = maker, CreatedAt = DateTimeOffset.UtcNow, Total = 10, ItemCount = 1 };
        db.Add(batch);
        await db.SaveChangesAsync();
        return batch.Id;
    }

    private static async Task<string> RefusedAsync(string connection, string sql) => (await RefusalAsync(connection, sql)).SqlState;

    private static async Task<string> RefusedMessageAsync(string connection, string sql) => (await RefusalAsync(connection, sql)).MessageText;

    private static async Task<PostgresException> RefusalAsync(string connection, string sql)
    {
        await using var db = PortalDb.Open(connection);
        return await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync(sql));
    }
}
