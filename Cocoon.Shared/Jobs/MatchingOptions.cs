namespace Cocoon.Shared.Jobs;

/// <summary>
/// What a job asks of the agents that run its units, for both kinds of job. Every field is optional:
/// absent, any online agent with room and a price the job accepts may take a unit, the balanced way.
/// </summary>
public sealed record MatchingOptions
{
    /// <summary>"any" (the default), "gpu" (CUDA or OpenCL devices) or "cpu".</summary>
    public string? DeviceClass { get; init; }

    /// <summary>Only agents whose enclave key a TDX quote vouches for, matched to an allowed measurement set.</summary>
    public bool AttestedOnly { get; init; }

    /// <summary>The least benchmark score (GFLOP/s on the reference models) an agent must have reported.</summary>
    public double? MinBenchmarkScore { get; init; }

    /// <summary>The least reputation (0 to 1: the share of its recent units an agent completed) it must have.</summary>
    public double? MinReputation { get; init; }

    /// <summary>How to choose among the agents that qualify: "balanced" (the default: least loaded, then cheapest), "cheapest" (price, then score) or "fastest" (soonest expected finish from score and queue).</summary>
    public string? Strategy { get; init; }
}
