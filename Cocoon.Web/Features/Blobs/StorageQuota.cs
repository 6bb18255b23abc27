using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Blobs;

/// <summary>
/// An account's storage: what it holds and what its open uploads have claimed. Checks and claims are
/// made under a PostgreSQL advisory lock per account, in the caller's transaction, so that parallel
/// requests cannot each see room for themselves and together pass the quota.
/// </summary>
public static class StorageQuota
{
    /// <summary>Takes the account's quota lock until the current transaction ends (every portal node shares it).</summary>
    public static async Task LockAsync(CocoonDbContext db, Guid accountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("The quota lock is held for a transaction; begin one first.");
        }

        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"quota:" + accountId.ToString("N")}, 0))", cancellationToken);
    }

    /// <summary>Bytes the account holds in blobs plus what its open uploads have claimed.</summary>
    public static async Task<long> UsedAsync(CocoonDbContext db, Guid accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var stored = await db.Set<StoredBlob>().Where(b => b.AccountId == accountId).SumAsync(b => (long?)b.Length, cancellationToken) ?? 0;
        var pending = await db.Set<Upload>().Where(u => u.AccountId == accountId && u.CompletedAt == null && u.ExpiresAt > now)
            .SumAsync(u => (long?)u.Length, cancellationToken) ?? 0;
        return stored + pending;
    }
}
