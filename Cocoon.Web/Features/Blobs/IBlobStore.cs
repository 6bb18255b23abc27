namespace Cocoon.Web.Features.Blobs;

/// <summary>
/// Where ciphertext lives: uploads are staged, then committed under their SHA-256 (content-addressed).
/// The filesystem is the default; an S3-compatible store implements the same operations.
/// </summary>
public interface IBlobStore
{
    /// <summary>Bytes staged so far for an upload (0 when none).</summary>
    Task<long> StagedLengthAsync(Guid uploadId, CancellationToken cancellationToken);

    /// <summary>Appends <paramref name="data"/> to the staged upload; returns the new staged length.</summary>
    Task<long> AppendAsync(Guid uploadId, Stream data, long maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Hashes the staged upload; when it is <paramref name="expectedDigest"/> (SHA-256, hex) the bytes move
    /// under it, otherwise they are discarded and <see cref="DigestMismatchException"/> is thrown.
    /// </summary>
    Task CommitAsync(Guid uploadId, string expectedDigest, CancellationToken cancellationToken);

    Task DiscardUploadAsync(Guid uploadId, CancellationToken cancellationToken);

    /// <summary>A stream over a committed object, positioned at <paramref name="offset"/>.</summary>
    /// <exception cref="BlobMissingException">The object is not in the store.</exception>
    Stream OpenRead(string digest, long offset);

    Task DeleteAsync(string digest, CancellationToken cancellationToken);
}
