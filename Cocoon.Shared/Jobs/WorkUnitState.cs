namespace Cocoon.Shared.Jobs;

/// <summary>Where a work unit is in its life.</summary>
public enum WorkUnitState
{
    /// <summary>Waiting for an agent with free capacity.</summary>
    Pending = 0,

    /// <summary>Pushed to an agent under a lease; not started yet.</summary>
    Leased = 1,

    /// <summary>The agent reported progress.</summary>
    Running = 2,

    /// <summary>Done and counted, exactly once.</summary>
    Succeeded = 3,

    /// <summary>Failed on every attempt allowed.</summary>
    Failed = 4,
}
