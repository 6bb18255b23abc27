using Cocoon.Shared.Jobs;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// A submitted job, split into work units when planned. A matrix job's items are products; a model
/// job's items are dataset rows (MatrixCount and MatricesPerUnit then count rows, MatrixSize is 0).
/// </summary>
public sealed class Job
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    /// <summary>The account that submitted the job; only it and admins may see the job.</summary>
    public Guid? OwnerAccountId { get; set; }

    public JobState State { get; set; }

    public JobKind Kind { get; set; }

    /// <summary>Model jobs: the sealed model (null once the developer deleted it after the job ended).</summary>
    public Guid? ModelAssetId { get; set; }

    /// <summary>Model jobs: the model's declared output elements per row at submission (<see cref="Assets.Asset.OutputElementsPerRow"/>).</summary>
    public long? OutputElementsPerRow { get; set; }

    /// <summary>Model jobs: the sealed dataset.</summary>
    public Guid? DatasetAssetId { get; set; }

    /// <summary>Model jobs: the developer's public key (65 bytes) outputs are sealed to; the key grants are bound to it.</summary>
    public byte[]? OutputRecipientKey { get; set; }

    public int MatrixSize { get; set; }

    public int MatrixCount { get; set; }

    public int MatricesPerUnit { get; set; }

    public long Seed { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>Why a paused job is paused (shown to its owner); null unless <see cref="JobState.Paused"/>.</summary>
    public string? PauseReason { get; set; }

    /// <summary>The job paused itself because its budget cannot pay for the next unit; adding to the budget resumes it.</summary>
    public bool PausedForBudget { get; set; }

    /// <summary>Nanotons held at submission for the job's units; each unit's charge comes out of it, the rest is released at the end.</summary>
    public long Budget { get; set; }

    /// <summary>The most the job pays per TFLOP (nanotons); only agents at or under it get its units. Null: any price.</summary>
    public long? MaxPricePerTflop { get; set; }

    /// <summary>Model jobs: FLOPs one row costs, fixed by the first unit that succeeded; every later unit must report the same.</summary>
    public long? FlopsPerRow { get; set; }

    /// <summary>Its owner's order among their own jobs (−10 to 10, higher first; 0 by default): it never takes capacity from another account's share.</summary>
    public int Priority { get; set; }

    /// <summary>How many times its owner retried its failed units after it failed (each retry holds its budget again).</summary>
    public int Retries { get; set; }

    /// <summary>The class of device its units may run on.</summary>
    public DeviceClass DeviceClass { get; set; }

    /// <summary>Only agents with TDX attestation matched to an allowed measurement set run it.</summary>
    public bool AttestedOnly { get; set; }

    /// <summary>The least benchmark score (GFLOP/s) an agent must have reported; null: none asked.</summary>
    public double? MinBenchmarkScore { get; set; }

    /// <summary>The least reputation (0 to 1) an agent must have; null: none asked.</summary>
    public double? MinReputation { get; set; }

    /// <summary>The least device memory an agent must report: a matrix unit's three matrices, a model's weights.</summary>
    public long MinMemoryBytes { get; set; }

    public MatchStrategy Strategy { get; set; }

    /// <summary>Model jobs: distinct agents that run each unit (1 to 3); with 2 or more their signed plaintext digests must agree.</summary>
    public int Redundancy { get; set; } = 1;

    /// <summary>Model jobs: the percentage of units, drawn at plan time, run a second time on another agent and compared.</summary>
    public int SpotCheckPercent { get; set; }

    /// <summary>Whether some of its units run on several agents and are compared (<see cref="CopyVote"/>).</summary>
    public bool Checked => Redundancy > 1 || SpotCheckPercent > 0;

    public List<WorkUnit> Units { get; set; } = [];

    public int UnitCount => (MatrixCount + MatricesPerUnit - 1) / MatricesPerUnit;
}
