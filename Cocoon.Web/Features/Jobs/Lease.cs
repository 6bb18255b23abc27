namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// One attempt at a unit by one agent. Leases are never deleted: they are the history of who ran
/// what, and the proof that each unit was counted done exactly once.
/// </summary>
public sealed class Lease
{
    public Guid Id { get; set; }

    public Guid WorkUnitId { get; set; }

    public Guid AgentId { get; set; }

    public DateTimeOffset IssuedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public LeaseOutcome Outcome { get; set; }
}
