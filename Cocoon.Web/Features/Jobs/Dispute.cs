namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// A result the portal caught wrong, kept with its evidence for admins: which unit, lease and agent,
/// what the agent reported and what the unit's answer is. The agent was not paid for it, the unit
/// ran again elsewhere, and the failed lease weighs on the agent's reputation.
/// </summary>
public sealed class Dispute
{
    public Guid Id { get; set; }

    public DateTimeOffset At { get; set; }

    public Guid JobId { get; set; }

    public Guid WorkUnitId { get; set; }

    public int UnitIndex { get; set; }

    public Guid LeaseId { get; set; }

    public Guid AgentId { get; set; }

    /// <summary>How it was caught: "Canary" (the portal recomputed the unit).</summary>
    public required string Kind { get; set; }

    /// <summary>The digest the agent reported.</summary>
    public required string Reported { get; set; }

    /// <summary>The digest the unit's inputs give.</summary>
    public required string Expected { get; set; }

    /// <summary>The evidence in words.</summary>
    public required string Evidence { get; set; }
}
