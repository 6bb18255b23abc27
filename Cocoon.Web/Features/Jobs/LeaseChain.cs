using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// A lease with its unit and job, locked in the one order every writer uses: job, unit, lease. The
/// unit and lease are locked FOR UPDATE; the job exclusively (<see cref="JobLock"/>), except for a
/// routine result (<see cref="Routine"/>) when the caller allows it: then shared, so one job's routine
/// results run side by side and beside its dispatches, and still wait for anything that changes the
/// job's state.
/// </summary>
/// <param name="Shared">Whether the job is only share-locked: the caller must not change the job's state.</param>
internal sealed record LeaseChain(Job Job, WorkUnit Unit, Lease Lease, bool Shared)
{
    public static async Task<LeaseChain?> LockAsync(CocoonDbContext db, Guid leaseId, CancellationToken cancellationToken, bool mayShare = false)
    {
        var keys = await (from l in db.Leases.AsNoTracking()
                          join u in db.WorkUnits on l.WorkUnitId equals u.Id
                          join j in db.Jobs on u.JobId equals j.Id
                          where l.Id == leaseId
                          select new
                          {
                              u.JobId,
                              UnitId = u.Id,
                              Routine = l.Outcome == LeaseOutcome.Active && u.CurrentLeaseId == l.Id && j.Redundancy == 1 && j.SpotCheckPercent == 0
                                  && (j.Kind != JobKind.Model || j.FlopsPerRow != null),
                          })
            .SingleOrDefaultAsync(cancellationToken);
        if (keys is null)
        {
            return null;
        }

        // What was read above is a hint: the caller checks Routine again on the locked rows.
        var shared = mayShare && keys.Routine;
        var job = (shared ? await JobLock.SharedAsync(db, keys.JobId, cancellationToken) : await JobLock.ExclusiveAsync(db, keys.JobId, cancellationToken))!;
        var unit = await db.WorkUnits.FromSql($"SELECT * FROM work_units WHERE id = {keys.UnitId} FOR UPDATE").SingleAsync(cancellationToken);
        var lease = await db.Leases.FromSql($"SELECT * FROM leases WHERE id = {leaseId} FOR UPDATE").SingleAsync(cancellationToken);
        return new LeaseChain(job, unit, lease, shared);
    }

    /// <summary>
    /// A result that needs nothing of its job but its hold: the lease is active and is its unit's current
    /// one (so what it reserved is its own to be paid from), the job compares no copies, and the job's
    /// FLOPs per row are known (a first model unit's result sets them). Such results of one job may be
    /// accepted at once; any other takes the job row for itself.
    /// </summary>
    public bool Routine => Lease.Outcome == LeaseOutcome.Active && Unit.CurrentLeaseId == Lease.Id && !Job.Checked
        && (Job.Kind != JobKind.Model || Job.FlopsPerRow is not null);
}
