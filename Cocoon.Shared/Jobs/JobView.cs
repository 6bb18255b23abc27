namespace Cocoon.Shared.Jobs;

/// <summary>A job as the API shows it.</summary>
public sealed record JobView
{
    /// <summary>The job's id.</summary>
    public required Guid Id { get; init; }

    /// <summary>The job's name.</summary>
    public required string Name { get; init; }

    /// <summary>Where the job is in its life.</summary>
    public required JobState State { get; init; }

    /// <summary>What the job computes; for a model job the matrix counts below count dataset rows.</summary>
    public JobKind Kind { get; init; }

    /// <summary>Rows and columns of each matrix (0 for a model job).</summary>
    public required int MatrixSize { get; init; }

    /// <summary>Products in the job.</summary>
    public required int MatrixCount { get; init; }

    /// <summary>Products per unit.</summary>
    public required int MatricesPerUnit { get; init; }

    /// <summary>Seed of the input generator.</summary>
    public required long Seed { get; init; }

    /// <summary>Units the job is split into.</summary>
    public required int UnitsTotal { get; init; }

    /// <summary>Units done.</summary>
    public required int UnitsDone { get; init; }

    /// <summary>When the job was submitted.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the job was split into units.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the job succeeded or failed.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Why the job failed, when it did.</summary>
    public string? FailureReason { get; init; }

    /// <summary>Why a paused job is paused, when it is.</summary>
    public string? PauseReason { get; init; }

    /// <summary>Nanotons held for the job: at submission, plus what its owner added since (a string of digits).</summary>
    public string Budget { get; init; } = "0";

    /// <summary>The most the job pays per TFLOP, nanotons; null for any price.</summary>
    public string? MaxPricePerTflop { get; init; }

    /// <summary>What its succeeded units have been charged so far (cost and fee), nanotons.</summary>
    public string Charged { get; init; } = "0";

    /// <summary>The job's order among its owner's own jobs (−10 to 10, higher first).</summary>
    public int Priority { get; init; }

    /// <summary>How many times its owner retried it after it failed.</summary>
    public int Retries { get; init; }

    /// <summary>What the agents running it must be, and how they are chosen (the defaults filled in).</summary>
    public MatchingOptions? Matching { get; init; }

    /// <summary>Why units of a running job are waiting, when they are (no agent qualifies, or all that do are busy); null otherwise. Given for one job, not in lists.</summary>
    public string? Waiting { get; init; }

    /// <summary>Model jobs: how many distinct agents run each unit (1: no cross-check).</summary>
    public int Redundancy { get; init; } = 1;

    /// <summary>Model jobs: the percentage of units run a second time elsewhere and compared.</summary>
    public int SpotCheckPercent { get; init; }

    /// <summary>Copies of units run on other agents to check them (beyond one per unit), including those run to break a tie.</summary>
    public int CheckCopies { get; init; }

    /// <summary>Copies whose agent disagreed with the majority (not paid; each a dispute).</summary>
    public int Outvoted { get; init; }
}
