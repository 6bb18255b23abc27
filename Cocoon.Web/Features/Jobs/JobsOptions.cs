using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Sweeps and retries of dispatch (section "Cocoon:Jobs"; the agent link's lease and timeouts are <see cref="Agents.AgentLinkOptions"/>, in the same section).</summary>
public sealed class JobsOptions
{
    public const string Section = "Cocoon:Jobs";

    /// <summary>How often expired leases and silent agents are looked for.</summary>
    [Range(1, 300, ErrorMessage = "Cocoon:Jobs:SweepSeconds must be between 1 and 300.")]
    public int SweepSeconds { get; set; } = 2;

    /// <summary>Failed attempts after which a unit, and its job, fail.</summary>
    [Range(1, 100, ErrorMessage = "Cocoon:Jobs:MaxAttempts must be between 1 and 100.")]
    public int MaxAttempts { get; set; } = 5;
}
