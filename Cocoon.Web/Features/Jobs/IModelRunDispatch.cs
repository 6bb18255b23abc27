using Cocoon.Shared.Work;
using Cocoon.Web.Data;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// What a model unit's assignment carries. The ModelRuns feature owns key grants and sealed inputs and
/// supplies this, so the dispatcher leases model units without knowing either.
/// </summary>
public interface IModelRunDispatch
{
    /// <summary>Where the unit's sealed inputs are and the agent's grants for them, read in the dispatch's transaction.</summary>
    Task<ModelRunSpec> SpecAsync(CocoonDbContext db, Job job, WorkUnit unit, Guid agentId, CancellationToken cancellationToken);
}
