namespace Cocoon.Shared.Jobs;

/// <summary>Where a job is in its life.</summary>
public enum JobState
{
    /// <summary>Submitted; not yet split into units.</summary>
    Pending = 0,

    /// <summary>Split into units that are being dispatched and run.</summary>
    Running = 1,

    /// <summary>Every unit succeeded.</summary>
    Succeeded = 2,

    /// <summary>A unit failed more often than allowed.</summary>
    Failed = 3,
}
