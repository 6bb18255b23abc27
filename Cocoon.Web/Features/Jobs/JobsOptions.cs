using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Timing and retry rules of dispatch (section "Cocoon:Jobs").</summary>
public sealed class JobsOptions
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

    /// <summary>How often expired leases and silent agents are looked for.</summary>
    [Range(1, 300, ErrorMessage = "Cocoon:Jobs:SweepSeconds must be between 1 and 300.")]
    public int SweepSeconds { get; set; } = 2;

    /// <summary>Failed attempts after which a unit, and its job, fail.</summary>
    [Range(1, 100, ErrorMessage = "Cocoon:Jobs:MaxAttempts must be between 1 and 100.")]
    public int MaxAttempts { get; set; } = 5;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public TimeSpan AgentTimeout => TimeSpan.FromSeconds(AgentTimeoutSeconds);
}
