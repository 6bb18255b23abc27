using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Sweeps and retries of dispatch (section "Cocoon:Jobs"; the agent link's lease and timeouts are <see cref="Agents.AgentLinkOptions"/>, in the same section).</summary>
public sealed class JobsOptions
{
    public const string Section = "Cocoon:Jobs";

    /// <summary>How often expired leases and silent agents are looked for.</summary>
    [Range(1, 300, ErrorMessage = "Cocoon:Jobs:SweepSeconds must be between 1 and 300.")]
    public int SweepSeconds { get; set; } = 2;

    /// <summary>How long a lease may go without progress before it ends, heartbeats or not (an agent cannot sit on a unit).</summary>
    [Range(2, 24 * 3600, ErrorMessage = "Cocoon:Jobs:MaxSilentLeaseSeconds must be between 2 and 86400.")]
    public int MaxSilentLeaseSeconds { get; set; } = 600;

    /// <summary>The longest a lease runs when the job gives no better estimate (no unit of it finished yet).</summary>
    [Range(1, 7 * 24 * 60, ErrorMessage = "Cocoon:Jobs:MaxLeaseMinutes must be between 1 and 10080.")]
    public int MaxLeaseMinutes { get; set; } = 120;

    /// <summary>The shortest deadline a lease gets, however quickly the job's units have gone.</summary>
    [Range(1, 24 * 3600, ErrorMessage = "Cocoon:Jobs:MinLeaseSeconds must be between 1 and 86400.")]
    public int MinLeaseSeconds { get; set; } = 120;

    /// <summary>How many recent ended leases of an agent are weighed for quarantine.</summary>
    [Range(1, 1000, ErrorMessage = "Cocoon:Jobs:QuarantineWindow must be between 1 and 1000.")]
    public int QuarantineWindow { get; set; } = 10;

    /// <summary>How many of those may be failed or abandoned before the agent is quarantined.</summary>
    [Range(1, 1000, ErrorMessage = "Cocoon:Jobs:QuarantineFailures must be between 1 and 1000.")]
    public int QuarantineFailures { get; set; } = 5;

    /// <summary>How many distinct agents must fail a unit before it, and its job, fail (a model error: two).</summary>
    [Range(1, 100, ErrorMessage = "Cocoon:Jobs:FailingAgentsPerUnit must be between 1 and 100.")]
    public int FailingAgentsPerUnit { get; set; } = 3;

    /// <summary>
    /// Percent of a matrix job's units whose result the portal checks itself, unannounced (canaries): the
    /// agent cannot tell them from the rest, and a wrong answer on one is caught and disputed.
    /// </summary>
    [Range(0, 100, ErrorMessage = "Cocoon:Jobs:CanaryPercent must be between 0 and 100.")]
    public int CanaryPercent { get; set; } = 10;

    /// <summary>The largest unit the portal will recompute as a canary (MFLOP; its own CPU pays for it).</summary>
    [Range(0, 100_000, ErrorMessage = "Cocoon:Jobs:MaxCanaryMegaflops must be between 0 and 100000.")]
    public int MaxCanaryMegaflops { get; set; } = 256;

    /// <summary>A bound on a unit's attempts of any kind (lost agents, expired leases, failures): past MaxAttempts × 3 it fails.</summary>
    [Range(1, 100, ErrorMessage = "Cocoon:Jobs:MaxAttempts must be between 1 and 100.")]
    public int MaxAttempts { get; set; } = 5;
}
