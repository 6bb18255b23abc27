namespace Cocoon.Web.Features.Blobs;

/// <summary>An upload's state: resume from <see cref="Received"/>.</summary>
public sealed record UploadView(Guid Id, long Length, long Received, bool Completed, Guid? BlobId, DateTimeOffset ExpiresAt);

/// <summary>Start an upload of <see cref="Length"/> bytes of ciphertext.</summary>
public sealed record CreateUploadRequest(long Length);

/// <summary>Finish an upload; <see cref="Sha256"/> is the ciphertext's digest as the client computed it.</summary>
public sealed record CompleteUploadRequest(string? Sha256);

/// <summary>A stored blob as the API shows it.</summary>
public sealed record BlobView(Guid Id, string Digest, long Length, DateTimeOffset CreatedAt);
