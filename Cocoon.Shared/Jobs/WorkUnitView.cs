namespace Cocoon.Shared.Jobs;

/// <summary>A work unit as the API shows it.</summary>
public sealed record WorkUnitView
{
    /// <summary>The unit's id.</summary>
    public required Guid Id { get; init; }

    /// <summary>Position within the job.</summary>
    public required int Index { get; init; }

    /// <summary>Where the unit is in its life.</summary>
    public required WorkUnitState State { get; init; }

    /// <summary>First product of the unit.</summary>
    public required long FirstMatrix { get; init; }

    /// <summary>Products in the unit.</summary>
    public required int MatrixCount { get; init; }

    /// <summary>Products finished, as last reported.</summary>
    public required int MatricesDone { get; init; }

    /// <summary>Leases issued for the unit so far.</summary>
    public required int Attempts { get; init; }

    /// <summary>The agent holding or having done the unit.</summary>
    public Guid? AgentId { get; init; }

    /// <summary>SHA-256 of the unit's output, once done.</summary>
    public string? OutputDigest { get; init; }

    /// <summary>Device throughput reported for the unit.</summary>
    public double? Gflops { get; init; }

    /// <summary>0 for the unit itself; 1 and up for copies run on other agents to check it.</summary>
    public int Replica { get; init; }

    /// <summary>How the unit's check stands: "unchecked", "awaiting", "agreed" or "outvoted".</summary>
    public string Vote { get; init; } = "unchecked";

    /// <summary>When the unit succeeded.</summary>
    public DateTimeOffset? CompletedAt { get; init; }
}
