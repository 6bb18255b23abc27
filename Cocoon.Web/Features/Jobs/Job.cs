using Cocoon.Shared.Jobs;

namespace Cocoon.Web.Features.Jobs;

/// <summary>A submitted batch of matrix products, split into work units when planned.</summary>
public sealed class Job
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    /// <summary>The account that submitted the job; only it and admins may see the job.</summary>
    public Guid? OwnerAccountId { get; set; }

    public JobState State { get; set; }

    public int MatrixSize { get; set; }

    public int MatrixCount { get; set; }

    public int MatricesPerUnit { get; set; }

    public long Seed { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string? FailureReason { get; set; }

    public List<WorkUnit> Units { get; set; } = [];

    public int UnitCount => (MatrixCount + MatricesPerUnit - 1) / MatricesPerUnit;
}
