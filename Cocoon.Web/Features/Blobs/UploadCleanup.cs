using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Blobs;

/// <summary>A recurring Hangfire job: uploads abandoned past their expiry lose their staged bytes and their row. Safe to run twice.</summary>
public sealed class UploadCleanup(CocoonDbContext db, IBlobStore store, TimeProvider clock, ILogger<UploadCleanup> logger)
{
    public const string JobId = "blobs:clean-orphaned-uploads";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var orphans = await db.Set<Upload>().Where(u => u.CompletedAt == null && u.ExpiresAt <= now).ToListAsync(cancellationToken);
        foreach (var upload in orphans)
        {
            await store.DiscardUploadAsync(upload.Id, cancellationToken);
            db.Remove(upload);
        }

        await db.SaveChangesAsync(cancellationToken);
        if (orphans.Count > 0)
        {
            logger.LogInformation("Removed {Count} abandoned upload(s)", orphans.Count);
        }

        return orphans.Count;
    }
}
