namespace Cocoon.Web.Features.Blobs;

/// <summary>A resumable upload of ciphertext: declared length, bytes received so far, and what it became.</summary>
public sealed class Upload
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public long Length { get; set; }

    public long Received { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public Guid? BlobId { get; set; }
}
