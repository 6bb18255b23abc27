using Cocoon.Web.Data;
using Cocoon.Web.Features.Blobs;
using Cocoon.Web.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.ModelRuns;

/// <summary>
/// Removes outputs no result stands behind: uploaded by a lease that then failed, expired, lost its
/// agent or was superseded, or by a copy of a unit once the vote gave the unit the majority's output
/// (<see cref="CopyVote"/>), and named by no unit. They would otherwise sit in the developer's storage,
/// counted against the quota, for ever (Hangfire, every few minutes; safe to run twice).
/// </summary>
public sealed class OrphanOutputSweep(IDbContextFactory<CocoonDbContext> dbFactory, IBlobStore store, IOptions<ModelRunsOptions> options, TimeProvider clock, ILogger<OrphanOutputSweep> logger)
{
    public const string JobId = "model-runs-orphan-outputs";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var before = clock.GetUtcNow() - TimeSpan.FromMinutes(options.Value.OrphanOutputMinutes);
        var orphans = await db.Set<StoredBlob>()
            .Where(b => b.LeaseId != null)
            .Join(db.Leases, b => b.LeaseId, l => l.Id, (b, l) => new { Blob = b, Lease = l })
            // A succeeded lease's output too, once no unit names it: a copy's, after the vote handed the unit the majority's.
            .Where(x => x.Lease.EndedAt != null && x.Lease.EndedAt < before && !x.Lease.AwaitingVote)
            .Where(x => !db.WorkUnits.Any(u => u.OutputBlobId == x.Blob.Id))
            .Select(x => new { x.Blob.Id, x.Blob.Digest })
            .ToListAsync(cancellationToken);
        foreach (var orphan in orphans)
        {
            await BlobRemoval.RemoveAsync(db, store, orphan.Id, orphan.Digest, cancellationToken);
        }

        if (orphans.Count > 0)
        {
            logger.LogInformation("Removed {Count} outputs of leases that did not succeed", orphans.Count);
        }

        return orphans.Count;
    }
}
