namespace Cocoon.Shared.Agents;

/// <summary>One accelerator an agent found on its machine.</summary>
public sealed record DeviceInfo
{
    /// <summary>The device's name as the driver reports it.</summary>
    public required string Name { get; init; }

    /// <summary>CUDA, OpenCL or CPU.</summary>
    public required DeviceKind Kind { get; init; }

    /// <summary>Device memory in bytes (for the CPU accelerator: what ILGPU reports).</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>Multiprocessors (GPU) or worker groups (CPU).</summary>
    public required int ComputeUnits { get; init; }

    /// <summary>Most threads one group may have.</summary>
    public required int MaxThreadsPerGroup { get; init; }
}
