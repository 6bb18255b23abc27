using System.Text.Json.Serialization;

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

    /// <summary>What to compute for a matrix job; null for a model job.</summary>
    public MatMulSpec? Work { get; init; }

    /// <summary>What to run for a model job; null for a matrix job.</summary>
    public ModelRunSpec? ModelRun { get; init; }

    /// <summary>Items the unit holds: products of a matrix job, rows of a model job (what progress counts).</summary>
    [JsonIgnore]
    public int ItemCount => ModelRun?.RowCount ?? Work?.MatrixCount ?? 0;
}
