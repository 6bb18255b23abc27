using Cocoon.Web.Data;
using Cocoon.Web.Features.Money;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Jobs and units as billing sees them (Money knows nothing of Jobs).</summary>
public static class JobBilling
{
    public static BilledJob Billed(this Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new BilledJob(job.Id, job.Name, job.OwnerAccountId, job.Budget, job.Retries);
    }

    /// <summary>The job's leases still running or awaiting their vote: what they reserved is spoken for in its hold.</summary>
    public static IQueryable<Lease> RunningLeases(this Data.CocoonDbContext db, Guid jobId)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Leases.Where(l => l.JobId == jobId && (l.EndedAt == null || l.AwaitingVote));
    }

    public static BilledUnit Billed(this WorkUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        return new BilledUnit(unit.Id, unit.Index);
    }
}

/// <summary>Job names for Money's statements.</summary>
public sealed class JobNames(IDbContextFactory<CocoonDbContext> dbFactory) : IJobNames
{
    public async Task<IReadOnlyDictionary<Guid, string>> NamesAsync(IReadOnlyCollection<Guid> jobIds, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().Where(j => jobIds.Contains(j.Id)).ToDictionaryAsync(j => j.Id, j => j.Name, cancellationToken);
    }
}
