using Cocoon.Shared.Work;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Assets;
using Cocoon.Web.Features.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.ModelRuns;

/// <summary>The model half of a dispatch: what an agent needs for a model unit.</summary>
public sealed class ModelRunDispatch : IModelRunDispatch
{
    public async Task<ModelRunSpec> SpecAsync(CocoonDbContext db, Job job, WorkUnit unit, Guid agentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(unit);
        var grant = await db.Set<KeyGrantRecord>().AsNoTracking().SingleAsync(g => g.JobId == job.Id && g.AgentId == agentId, cancellationToken);
        var assets = await db.Set<Asset>().AsNoTracking()
            .Where(a => a.Id == job.ModelAssetId || a.Id == job.DatasetAssetId).ToListAsync(cancellationToken);
        var model = assets.Single(a => a.Id == job.ModelAssetId);
        var dataset = assets.Single(a => a.Id == job.DatasetAssetId);
        return new ModelRunSpec
        {
            ModelBlobId = model.BlobId,
            ModelDigest = model.Digest,
            ModelGrant = grant.ModelGrant,
            DatasetBlobId = dataset.BlobId,
            DatasetSize = dataset.Size,
            DatasetGrant = grant.DatasetGrant,
            FirstRow = unit.FirstMatrix,
            RowCount = unit.MatrixCount,
            OutputRecipientKey = job.OutputRecipientKey!,
            FlopsPerRow = job.FlopsPerRow,
        };
    }
}
