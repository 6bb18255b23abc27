using Cocoon.Shared.Agents;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Cocoon.Agent.Compute;

/// <summary>Finds the accelerators ILGPU can see and orders them the way the agent prefers them.</summary>
public static class DeviceCatalog
{
    /// <summary>
    /// Creates a context with every accelerator kind ILGPU supports. The CPU accelerator gets one
    /// multiprocessor per core (its default is a single one) and 16-thread groups.
    /// </summary>
    public static Context CreateContext() => Context.Create(builder => builder
        .EnableAlgorithms()
        .Cuda()
        .OpenCL()
        .CPU(new CPUDevice(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 4, numMultiprocessors: Environment.ProcessorCount)));

    public static DeviceKind KindOf(Device device) => device.AcceleratorType switch
    {
        AcceleratorType.Cuda => DeviceKind.Cuda,
        AcceleratorType.OpenCL => DeviceKind.OpenCL,
        _ => DeviceKind.Cpu,
    };

    public static DeviceInfo Describe(Device device) => new()
    {
        Name = device.Name,
        Kind = KindOf(device),
        // ILGPU reports no real size for its CPU accelerator; the memory the process may use is what counts.
        MemoryBytes = KindOf(device) == DeviceKind.Cpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : device.MemorySize,
        ComputeUnits = device.NumMultiprocessors,
        MaxThreadsPerGroup = device.MaxNumThreadsPerGroup,
    };

    /// <summary>Devices matching the preference, best first: CUDA, then OpenCL, then CPU.</summary>
    public static IReadOnlyList<Device> Candidates(Context context, string preference)
    {
        var wanted = preference.ToLowerInvariant() switch
        {
            "cuda" => DeviceKind.Cuda,
            "opencl" => DeviceKind.OpenCL,
            "cpu" => DeviceKind.Cpu,
            "auto" => (DeviceKind?)null,
            _ => throw new ArgumentException($"Unknown device '{preference}': use auto, cuda, opencl or cpu."),
        };

        return [.. context.Devices
            .Where(d => wanted is null || KindOf(d) == wanted)
            .OrderBy(d => Rank(KindOf(d)))
            .ThenByDescending(d => d.MemorySize)];
    }

    private static int Rank(DeviceKind kind) => kind switch
    {
        DeviceKind.Cuda => 0,
        DeviceKind.OpenCL => 1,
        _ => 2,
    };
}
