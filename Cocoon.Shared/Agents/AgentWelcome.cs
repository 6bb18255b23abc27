namespace Cocoon.Shared.Agents;

/// <summary>The portal's answer to <see cref="AgentHello"/>.</summary>
public sealed record AgentWelcome
{
    /// <summary>The portal's build version, for the agent's log.</summary>
    public required string PortalVersion { get; init; }

    /// <summary>How often the agent must heartbeat.</summary>
    public required int HeartbeatSeconds { get; init; }

    /// <summary>Of the leases the agent said it holds, those the portal still counts as the agent's.</summary>
    public required IReadOnlyList<Guid> ResumedLeases { get; init; }
}
