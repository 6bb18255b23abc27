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
        await DeleteBytesIfUnheldAsync(db, store, digest, cancellationToken);
    }

    /// <summary>Deletes the stored bytes of <paramref name="digest"/> unless a blob still holds them (bytes stored for a blob that was then not recorded).</summary>
    public static async Task DeleteBytesIfUnheldAsync(CocoonDbContext db, IBlobStore store, string digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(store);
        if (!await db.Set<StoredBlob>().AsNoTracking().AnyAsync(b => b.Digest == digest, cancellationToken))
        {
            await store.DeleteAsync(digest, cancellationToken);
        }
    }
}
