namespace Cocoon.Web.Features.Blobs;

/// <summary>A committed ciphertext object an account owns (the bytes are content-addressed by digest).</summary>
public sealed class StoredBlob
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    /// <summary>SHA-256 of the ciphertext, hex.</summary>
    public required string Digest { get; set; }

    public long Length { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// For a unit's output: the lease that uploaded it. A lease uploads one output, and a result may only
    /// name its own lease's; outputs of leases that did not succeed are swept away.
    /// </summary>
    public Guid? LeaseId { get; set; }
}
