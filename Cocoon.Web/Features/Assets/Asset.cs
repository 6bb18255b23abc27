namespace Cocoon.Web.Features.Assets;

/// <summary>
/// A developer's model or dataset: a name and version for people, and the sealed blob that holds it.
/// The portal never sees its contents; format and rows are what the owner's browser declared.
/// </summary>
public sealed class Asset
{
    public Guid Id { get; set; }

    public Guid OwnerAccountId { get; set; }

    public AssetKind Kind { get; set; }

    public required string Name { get; set; }

    public required string Version { get; set; }

    /// <summary>"onnx" for models, "safetensors" for datasets.</summary>
    public required string Format { get; set; }

    /// <summary>Rows of a dataset (the shared first dimension), as the owner's browser read it before sealing.</summary>
    public long? Rows { get; set; }

    /// <summary>
    /// Models: the elements one row of output holds (every output's dimensions after the first,
    /// multiplied, summed), as the owner's browser read the model before sealing; null when symbolic.
    /// Bounds what an agent may upload for a unit.
    /// </summary>
    public long? OutputElementsPerRow { get; set; }

    public Guid BlobId { get; set; }

    /// <summary>Ciphertext size in bytes.</summary>
    public long Size { get; set; }

    /// <summary>SHA-256 of the ciphertext.</summary>
    public required string Digest { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
