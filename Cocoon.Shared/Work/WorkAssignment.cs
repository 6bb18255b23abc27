namespace Cocoon.Shared.Work;

/// <summary>A work unit pushed to an agent under a lease.</summary>
public sealed record WorkAssignment
{
    /// <summary>The lease this assignment runs under; every report names it.</summary>
    public required Guid LeaseId { get; init; }

    /// <summary>The unit being run.</summary>
    public required Guid UnitId { get; init; }

    /// <summary>The job the unit belongs to.</summary>
    public required Guid JobId { get; init; }

    /// <summary>Position of the unit within its job.</summary>
    public required int UnitIndex { get; init; }

    /// <summary>What to compute.</summary>
    public required MatMulSpec Work { get; init; }
}
