using Cocoon.Web.Features.Money;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Jobs and units as billing sees them (Money knows nothing of Jobs).</summary>
public static class JobBilling
{
    public static BilledJob Billed(this Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new BilledJob(job.Id, job.Name, job.OwnerAccountId, job.Budget);
    }

    public static BilledUnit Billed(this WorkUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        return new BilledUnit(unit.Id, unit.Index);
    }
}
