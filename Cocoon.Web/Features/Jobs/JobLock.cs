using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// A job's lock, in two strengths, taken before any of the job's units or leases (the order every
/// writer keeps: job, unit, lease). <b>Shared</b>: a routine result or a dispatch, side by side with the
/// job's others. <b>Exclusive</b>: anything that changes the job's state (cancel, pause, resume, retry,
/// failure, success, planning, a non-routine result). It is a transaction-scoped advisory lock, not a
/// row lock: PostgreSQL's lock manager queues a new shared request behind a waiting exclusive one, so a
/// cancel is not starved by a stream of results, as it is behind shared row locks (a new row share
/// lock does not wait for a queued writer). The exclusive lock also locks the row for its update.
/// </summary>
internal static class JobLock
{
    // Any constant works; it seeds the per-job locks every portal node takes.
    private const long Key = 0x436F636F6F6E03;

    /// <summary>The job, read once its shared lock is held; null when there is no such job.</summary>
    public static async Task<Job?> SharedAsync(CocoonDbContext db, Guid jobId, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock_shared(hashtextextended({jobId}::text, {Key}))", cancellationToken);
        return await db.Jobs.FromSql($"SELECT * FROM jobs WHERE id = {jobId}").SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>The job, its exclusive lock and its row lock held; null when there is no such job.</summary>
    public static async Task<Job?> ExclusiveAsync(CocoonDbContext db, Guid jobId, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({jobId}::text, {Key}))", cancellationToken);
        return await db.Jobs.FromSql($"SELECT * FROM jobs WHERE id = {jobId} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
    }
}
