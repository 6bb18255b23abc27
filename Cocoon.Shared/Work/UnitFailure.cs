namespace Cocoon.Shared.Work;

/// <summary>A unit the agent could not finish.</summary>
public sealed record UnitFailure
{
    /// <summary>The lease the unit ran under.</summary>
    public required Guid LeaseId { get; init; }

    /// <summary>What went wrong, in words an operator can act on.</summary>
    public required string Reason { get; init; }

    /// <summary>
    /// The model itself was refused (an operator, shape or attribute it cannot run), not the agent:
    /// the portal does not hold it against the agent, and fails the job once two agents agree.
    /// </summary>
    public bool ModelError { get; init; }
}
