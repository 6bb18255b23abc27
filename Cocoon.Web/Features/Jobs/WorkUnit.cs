using Cocoon.Shared.Jobs;

namespace Cocoon.Web.Features.Jobs;

/// <summary>A range of a job's items (products, or rows of a model job) that one agent runs under a lease.</summary>
public sealed class WorkUnit
{
    public Guid Id { get; set; }

    public Guid JobId { get; set; }

    public Job? Job { get; set; }

    public int Index { get; set; }

    /// <summary>
    /// 0 for the unit itself; 1 and up for copies of it (same rows) run on other agents of the same
    /// device kind and compared (<see cref="CopyVote"/>). The unit itself ends up holding the output
    /// the majority agreed on.
    /// </summary>
    public int Replica { get; set; }

    /// <summary>Where the unit's comparison with its copies stands.</summary>
    public UnitVote Vote { get; set; }

    /// <summary>Model jobs: the SHA-256 of the plaintext output its agent signed (<see cref="Shared.Work.OutputStatement"/>).</summary>
    public string? PlainDigest { get; set; }

    /// <summary>The agent's signature over <see cref="PlainDigest"/> and its lease: the evidence a dispute cites.</summary>
    public byte[]? PlainDigestSignature { get; set; }

    public long FirstMatrix { get; set; }

    public int MatrixCount { get; set; }

    public WorkUnitState State { get; set; }

    /// <summary>When the unit last became pending: dispatch serves the oldest first.</summary>
    public DateTimeOffset QueuedAt { get; set; }

    /// <summary>When a dispatch step was last enqueued for the unit, so it is not enqueued twice.</summary>
    public DateTimeOffset? DispatchRequestedAt { get; set; }

    /// <summary>The lease the unit runs under now (null while pending).</summary>
    public Guid? CurrentLeaseId { get; set; }

    /// <summary>The agent holding the unit, or the one that did it.</summary>
    public Guid? AgentId { get; set; }

    public int Attempts { get; set; }

    /// <summary>The portal checks this unit's result itself (a canary); never told to the agent.</summary>
    public bool Canary { get; set; }

    /// <summary>When its owner last retried the unit after it failed: only failures since count toward failing it again.</summary>
    public DateTimeOffset? RetriedAt { get; set; }

    public int MatricesDone { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public string? OutputDigest { get; set; }

    /// <summary>Model jobs: the sealed output blob the agent uploaded (owned by the job's owner).</summary>
    public Guid? OutputBlobId { get; set; }

    public long? Flops { get; set; }

    public double? DeviceMilliseconds { get; set; }

    public double? Gflops { get; set; }

    public string? LastError { get; set; }
}

/// <summary>Where a unit run on several agents stands in their comparison.</summary>
public enum UnitVote
{
    /// <summary>Run once: nothing to compare.</summary>
    Unchecked = 0,

    /// <summary>Its result is in; its copies' are not all (its agent is paid once they agree).</summary>
    Awaiting = 1,

    /// <summary>Its output is the one the majority of its copies gave.</summary>
    Agreed = 2,

    /// <summary>Its output differs from the majority's: its agent is not paid and a dispute records it.</summary>
    Outvoted = 3,
}
