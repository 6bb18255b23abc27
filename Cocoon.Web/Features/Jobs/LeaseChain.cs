using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>A lease with its unit and job, locked (FOR UPDATE) in the one order every writer uses: job, unit, lease.</summary>
internal sealed record LeaseChain(Job Job, WorkUnit Unit, Lease Lease)
{
    public static async Task<LeaseChain?> LockAsync(CocoonDbContext db, Guid leaseId, CancellationToken cancellationToken)
    {
        var keys = await db.Leases.AsNoTracking()
            .Where(l => l.Id == leaseId)
            .Join(db.WorkUnits, l => l.WorkUnitId, u => u.Id, (l, u) => new { u.JobId, UnitId = u.Id })
            .SingleOrDefaultAsync(cancellationToken);
        if (keys is null)
        {
            return null;
        }

        var job = await db.Jobs.FromSql($"SELECT * FROM jobs WHERE id = {keys.JobId} FOR UPDATE").SingleAsync(cancellationToken);
        var unit = await db.WorkUnits.FromSql($"SELECT * FROM work_units WHERE id = {keys.UnitId} FOR UPDATE").SingleAsync(cancellationToken);
        var lease = await db.Leases.FromSql($"SELECT * FROM leases WHERE id = {leaseId} FOR UPDATE").SingleAsync(cancellationToken);
        return new LeaseChain(job, unit, lease);
    }
}
