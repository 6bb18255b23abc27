using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.Agents;

/// <summary>
/// How the portal keeps track of connected agents: lease length, heartbeat, when a silent agent is
/// offline. Read by Agents and by the features that give agents work; the settings keep the names
/// they have always had, under "Cocoon:Jobs".
/// </summary>
public sealed class AgentLinkOptions
{
    public const string Section = "Cocoon:Jobs";

    /// <summary>How long a lease lasts without renewal; heartbeats and progress renew it.</summary>
    [Range(5, 3600, ErrorMessage = "Cocoon:Jobs:LeaseSeconds must be between 5 and 3600.")]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>How often agents heartbeat (sent to them at registration).</summary>
    [Range(1, 300, ErrorMessage = "Cocoon:Jobs:HeartbeatSeconds must be between 1 and 300.")]
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>An agent silent this long is offline and its leases end.</summary>
    [Range(3, 3600, ErrorMessage = "Cocoon:Jobs:AgentTimeoutSeconds must be between 3 and 3600.")]
    public int AgentTimeoutSeconds { get; set; } = 20;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public TimeSpan AgentTimeout => TimeSpan.FromSeconds(AgentTimeoutSeconds);
}
