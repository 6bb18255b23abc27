using Cocoon.Web.Data;
using Cocoon.Web.Features.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Assets;

/// <summary>A model's or dataset's blob is deleted with the asset, not on its own.</summary>
public sealed class AssetBlobReferences(CocoonDbContext db) : IBlobReferences
{
    public async Task<string?> InUseAsync(Guid blobId, CancellationToken cancellationToken) =>
        await db.Set<Asset>().AnyAsync(a => a.BlobId == blobId, cancellationToken)
            ? "A model or dataset uses this blob; delete that instead."
            : null;
}
