namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// One attempt at a unit by one agent. Leases are never deleted: they are the history of who ran
/// what, and the proof that each unit was counted done exactly once.
/// </summary>
public sealed class Lease
{
    public Guid Id { get; set; }

    public Guid WorkUnitId { get; set; }

    /// <summary>The unit's job, kept on the lease so a job's reservations are one index read (RunningLeases).</summary>
    public Guid JobId { get; set; }

    public Guid AgentId { get; set; }

    public DateTimeOffset IssuedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public LeaseOutcome Outcome { get; set; }

    /// <summary>When the lease ends whatever the heartbeats say: the unit's expected work, with slack.</summary>
    public DateTimeOffset Deadline { get; set; }

    /// <summary>The last progress the agent reported on this unit (heartbeats do not count: they prove the agent is alive, not working).</summary>
    public DateTimeOffset LastProgressAt { get; set; }

    /// <summary>The agent failed the unit because the model itself was refused: not held against the agent.</summary>
    public bool ModelError { get; set; }

    /// <summary>The agent's price per TFLOP (nanotons) when the lease was issued: what the unit is charged at.</summary>
    public long PricePerTflop { get; set; }

    /// <summary>
    /// Nanotons reserved out of the job's hold for this unit (cost plus fee): its exact charge when the
    /// unit's FLOPs were known at dispatch, else (a model job's first unit) the most it may be charged.
    /// </summary>
    public long Reserved { get; set; }

    /// <summary>Whether <see cref="Reserved"/> is the exact charge.</summary>
    public bool ChargeFixed { get; set; }

    /// <summary>The platform's fee within <see cref="Reserved"/> when the charge is fixed.</summary>
    public long Fee { get; set; }

    /// <summary>
    /// Its unit succeeded but is compared with copies on other agents not all finished: it is paid (and
    /// what it reserved stays reserved) once they agree, and never if it is outvoted.
    /// </summary>
    public bool AwaitingVote { get; set; }
}
