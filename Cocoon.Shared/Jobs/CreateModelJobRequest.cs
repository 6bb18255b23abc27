namespace Cocoon.Shared.Jobs;

/// <summary>
/// A model job as the developer's browser submits it: which sealed model and dataset, how many rows
/// per unit, the key outputs are sealed to, and the file keys wrapped to each allowed agent. No
/// plaintext key or data is in it.
/// </summary>
public sealed record CreateModelJobRequest
{
    /// <summary>A name the developer recognises.</summary>
    public string? Name { get; init; }

    /// <summary>The model (an asset of kind Model the caller owns).</summary>
    public Guid ModelId { get; init; }

    /// <summary>The dataset (an asset of kind Dataset the caller owns).</summary>
    public Guid DatasetId { get; init; }

    /// <summary>Dataset rows per work unit.</summary>
    public int RowsPerUnit { get; init; }

    /// <summary>The developer's registered public key (65 bytes, base64); outputs are sealed to it.</summary>
    public byte[]? OutputKey { get; init; }

    /// <summary>Nanotons to hold for the job's units, as a string of digits (absent: nothing, so only free agents run it).</summary>
    public string? Budget { get; init; }

    /// <summary>The most the job pays per TFLOP, nanotons as a string of digits (absent: any price the budget covers).</summary>
    public string? MaxPricePerTflop { get; init; }

    /// <summary>Refuse grants to agents that are not hardware-attested.</summary>
    public bool AttestedOnly { get; init; }

    /// <summary>What the agents running the job must be, and how to choose among those granted (absent: any granted agent, balanced).</summary>
    public MatchingOptions? Matching { get; init; }

    /// <summary>
    /// How many distinct agents run each unit (1 to 3; absent: 1). With 2 or more the agents' signed
    /// digests of the plaintext output must agree; a disagreement runs the unit once more and the
    /// agent outvoted is not paid. Each copy is paid for.
    /// </summary>
    public int? Redundancy { get; init; }

    /// <summary>The share of units (0 to 100 percent, drawn at random) run a second time on another agent and compared; absent: none.</summary>
    public int? SpotCheckPercent { get; init; }

    /// <summary>One entry per agent the developer allows.</summary>
    public IReadOnlyList<AgentKeyGrant>? Grants { get; init; }
}

/// <summary>The model's and the dataset's file keys wrapped to one agent's enclave key (each a 121-byte grant, base64).</summary>
public sealed record AgentKeyGrant
{
    /// <summary>The agent allowed to run the job.</summary>
    public Guid AgentId { get; init; }

    /// <summary>The enclave key the browser wrapped to, as the portal proposed it.</summary>
    public byte[]? EnclaveKey { get; init; }

    /// <summary>The model's file key wrapped to the enclave key.</summary>
    public byte[]? ModelGrant { get; init; }

    /// <summary>The dataset's file key wrapped to the enclave key.</summary>
    public byte[]? DatasetGrant { get; init; }
}

/// <summary>One unit's sealed output, for the owner's browser to fetch and open.</summary>
public sealed record UnitOutputView
{
    /// <summary>The unit's position in the job.</summary>
    public required int UnitIndex { get; init; }

    /// <summary>First dataset row the output covers.</summary>
    public required long FirstRow { get; init; }

    /// <summary>Rows the output covers.</summary>
    public required int RowCount { get; init; }

    /// <summary>The blob to GET from /api/blobs/{id}.</summary>
    public required Guid BlobId { get; init; }

    /// <summary>SHA-256 of the sealed output.</summary>
    public required string Digest { get; init; }

    /// <summary>Ciphertext size in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>
    /// For a unit run on several agents: the keyed digest of the plaintext output the majority signed
    /// (<see cref="Work.OutputStatement"/>). The developer, who holds the dataset key, checks the opened
    /// output against it; null for an unchecked unit.
    /// </summary>
    public string? PlainDigest { get; init; }
}
