namespace Cocoon.Shared.Work;

/// <summary>
/// A unit of a model job: run the developer's sealed model over rows [FirstRow, FirstRow + RowCount)
/// of their sealed dataset and seal the output rows to <see cref="OutputRecipientKey"/>. The agent
/// gets the file keys only as grants wrapped to its enclave key; the portal cannot open them.
/// </summary>
public sealed record ModelRunSpec
{
    /// <summary>The sealed ONNX model (a blob the agent reads through its lease).</summary>
    public required Guid ModelBlobId { get; init; }

    /// <summary>SHA-256 of the model's ciphertext: the agent's cache key, checked after download.</summary>
    public required string ModelDigest { get; init; }

    /// <summary>The model's file key wrapped to this agent's enclave key (<see cref="Sealing.KeyGrant"/>).</summary>
    public required byte[] ModelGrant { get; init; }

    /// <summary>The sealed safetensors dataset.</summary>
    public required Guid DatasetBlobId { get; init; }

    /// <summary>Ciphertext size of the dataset (tells the agent which chunk is the last).</summary>
    public required long DatasetSize { get; init; }

    /// <summary>The dataset's file key wrapped to this agent's enclave key.</summary>
    public required byte[] DatasetGrant { get; init; }

    /// <summary>First dataset row of the unit.</summary>
    public required long FirstRow { get; init; }

    /// <summary>Rows in the unit.</summary>
    public required int RowCount { get; init; }

    /// <summary>The developer's P-256 public key (65 bytes); the grants are bound to it.</summary>
    public required byte[] OutputRecipientKey { get; init; }

    /// <summary>
    /// FLOPs one row of this job costs, as the job's first unit counted them and the unit is priced at;
    /// null until counted. An agent whose own count differs refuses the unit rather than run it at a
    /// price it did not count.
    /// </summary>
    public long? FlopsPerRow { get; init; }
}
