using Cocoon.Shared.Agents;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Cocoon.Agent.Compute;

/// <summary>
/// The words <c>--device</c> and Agent:Device take, and the devices on this machine each word opens.
/// "cpu" is the engine's SIMD kernels; "ilgpu-cpu" is ILGPU's CPU accelerator, which runs the GPU
/// kernels one OS thread per GPU thread: two orders of magnitude slower, so only chosen by name, to
/// check the GPU kernels on a machine without a GPU.
/// </summary>
public static class DeviceCatalog
{
    public static IReadOnlyList<string> Choices { get; } = ["auto", "cpu", "cuda", "opencl", "ilgpu-cpu"];

    /// <summary>"auto, cpu, cuda, opencl, ilgpu-cpu": for messages that must name every choice.</summary>
    public static string ChoiceList { get; } = string.Join(", ", Choices);

    /// <summary>What the CPU's SIMD kernels are, as the agent reports them.</summary>
    public static DeviceInfo Cpu { get; } = new()
    {
        Name = $"cpu: SIMD kernels, {Environment.ProcessorCount} threads",
        Kind = DeviceKind.Cpu,
        MemoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        ComputeUnits = Environment.ProcessorCount,
        // No thread groups: each core works through its own tiles.
        MaxThreadsPerGroup = 1,
    };

    public static bool IsChoice(string? word) => word is not null && Choices.Contains(word, StringComparer.Ordinal);

    /// <summary>The one line that refuses <paramref name="word"/> for <paramref name="setting"/> (Agent:Device, --device).</summary>
    public static string MustBeOneOf(string setting, string? word) => $"{setting} must be one of {ChoiceList} (it is '{word}').";

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

    /// <summary>An ILGPU device as its driver names it.</summary>
    public static DeviceInfo Describe(Device device) => new()
    {
        Name = device.Name,
        Kind = KindOf(device),
        // ILGPU reports no real size for its CPU accelerator; the memory the process may use is what counts.
        MemoryBytes = KindOf(device) == DeviceKind.Cpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : device.MemorySize,
        ComputeUnits = device.NumMultiprocessors,
        MaxThreadsPerGroup = device.MaxNumThreadsPerGroup,
    };

    /// <summary>
    /// Every device on this machine under the word that opens it, named "word: driver name" (the name
    /// the agent reports): the SIMD kernels, then CUDA, OpenCL and ILGPU's CPU accelerator, most memory first.
    /// </summary>
    public static IReadOnlyList<DeviceEntry> Entries(Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        List<DeviceEntry> entries = [new("cpu", null, Cpu)];
        foreach (var (choice, type) in new[] { ("cuda", AcceleratorType.Cuda), ("opencl", AcceleratorType.OpenCL), ("ilgpu-cpu", AcceleratorType.CPU) })
        {
            entries.AddRange(context.Devices
                .Where(d => d.AcceleratorType == type)
                .OrderByDescending(d => d.MemorySize)
                .Select(d => new DeviceEntry(choice, d, Describe(d) with { Name = $"{choice}: {d.Name}" })));
        }

        return entries;
    }

    /// <summary>The devices <paramref name="choice"/> tries, in order; auto is CUDA, then OpenCL, then the SIMD kernels.</summary>
    /// <exception cref="ArgumentException">Not one of <see cref="Choices"/>; the message lists them.</exception>
    public static IReadOnlyList<DeviceEntry> Candidates(Context context, string choice)
    {
        if (!IsChoice(choice))
        {
            throw new ArgumentException($"Unknown device '{choice}': use one of {ChoiceList}.", nameof(choice));
        }

        var entries = Entries(context);
        string[] order = choice == "auto" ? ["cuda", "opencl", "cpu"] : [choice];
        return [.. order.SelectMany(word => entries.Where(e => e.Choice == word))];
    }
}
