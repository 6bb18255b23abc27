namespace Cocoon.Shared.Work;

/// <summary>How far a running unit has got.</summary>
public sealed record UnitProgress
{
    /// <summary>The lease the unit runs under.</summary>
    public required Guid LeaseId { get; init; }

    /// <summary>Products finished so far.</summary>
    public required int Done { get; init; }

    /// <summary>Products in the unit.</summary>
    public required int Total { get; init; }
}
