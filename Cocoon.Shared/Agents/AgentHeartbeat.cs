namespace Cocoon.Shared.Agents;

/// <summary>A periodic sign of life; renews the leases the agent is working on.</summary>
public sealed record AgentHeartbeat
{
    /// <summary>Leases the agent has queued or running.</summary>
    public required IReadOnlyList<Guid> ActiveLeases { get; init; }
}
