namespace Cocoon.Web.Features.Blobs;

/// <summary>
/// Something that keeps blobs in use (a model or dataset). Features that point at blobs register one,
/// so the blobs feature can refuse to delete a blob in use without knowing what uses it.
/// </summary>
public interface IBlobReferences
{
    /// <summary>Why the blob cannot be deleted (a sentence for the caller), or null when nothing here uses it.</summary>
    Task<string?> InUseAsync(Guid blobId, CancellationToken cancellationToken);
}
