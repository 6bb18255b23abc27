namespace Cocoon.Shared.Work;

/// <summary>A unit the agent could not finish.</summary>
public sealed record UnitFailure
{
    /// <summary>The lease the unit ran under.</summary>
    public required Guid LeaseId { get; init; }

    /// <summary>What went wrong, in words an operator can act on.</summary>
    public required string Reason { get; init; }
}
