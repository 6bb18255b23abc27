namespace Cocoon.Shared.Agents;

/// <summary>What an agent measured of itself on the reference models (cocoon-agent bench), reported once per start.</summary>
public sealed record AgentBenchmark
{
    /// <summary>Geometric mean GFLOP/s of the reference models at batch 32: the number the portal shows.</summary>
    public required double Score { get; init; }

    /// <summary>Where the models ran, in words.</summary>
    public required string Device { get; init; }
}
