namespace Cocoon.Web.Features.Jobs;

/// <summary>The class of device a job's units may run on.</summary>
public enum DeviceClass
{
    Any = 0,

    /// <summary>CUDA or OpenCL.</summary>
    Gpu = 1,

    Cpu = 2,
}

/// <summary>How the dispatcher chooses among the agents that qualify for a unit.</summary>
public enum MatchStrategy
{
    /// <summary>Least loaded first, then cheapest.</summary>
    Balanced = 0,

    /// <summary>Lowest price first, then highest benchmark score.</summary>
    Cheapest = 1,

    /// <summary>Soonest expected finish: the units it already runs, plus this one, over its benchmark score.</summary>
    Fastest = 2,
}
