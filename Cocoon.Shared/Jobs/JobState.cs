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

    /// <summary>Running, but no new unit is handed out: its owner paused it, or its budget cannot pay for the next unit. Units already running finish and are charged.</summary>
    Paused = 4,

    /// <summary>Its owner cancelled it: running units were stopped, nothing more is charged, the rest of the budget was released.</summary>
    Cancelled = 5,
}
