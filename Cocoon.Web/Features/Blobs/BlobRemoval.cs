using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Blobs;

/// <summary>Removes an account's blob; the stored bytes go when no other blob has the same ciphertext.</summary>
public static class BlobRemoval
{
    public static async Task RemoveAsync(CocoonDbContext db, IBlobStore store, Guid blobId, string digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(store);
        await db.Set<StoredBlob>().Where(b => b.Id == blobId).ExecuteDeleteAsync(cancellationToken);
        if (!await db.Set<StoredBlob>().AnyAsync(b => b.Digest == digest, cancellationToken))
        {
            await store.DeleteAsync(digest, cancellationToken);
        }
    }
}
