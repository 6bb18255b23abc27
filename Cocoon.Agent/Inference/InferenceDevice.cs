using Cocoon.Agent.Compute;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Shared.Agents;

namespace Cocoon.Agent.Inference;

/// <summary>
/// Where the ONNX engine runs a model: an ILGPU GPU (CUDA or OpenCL, or ILGPU's CPU accelerator when
/// asked for by name to check the kernels) or the CPU's own SIMD kernels. ILGPU's CPU accelerator is
/// never chosen automatically: it emulates each GPU thread and is two orders of magnitude slower than
/// the SIMD kernels.
/// </summary>
public sealed class InferenceDevice : IDisposable
{
    /// <summary>The choices <c>--device</c> takes.</summary>
    public static readonly string[] Choices = ["auto", "cpu", "cuda", "opencl", "ilgpu-cpu"];

    private InferenceDevice(GpuDevice? gpu)
    {
        Gpu = gpu;
        Name = gpu is null
            ? $"cpu: SIMD kernels, {Environment.ProcessorCount} threads"
            : $"{(gpu.Info.Kind == DeviceKind.Cpu ? "ilgpu-cpu" : gpu.Info.Kind.ToString().ToLowerInvariant())}: {gpu.Info.Name}";
    }

    /// <summary>The GPU the engine launches kernels on; null for the CPU kernels.</summary>
    public GpuDevice? Gpu { get; }

    /// <summary>What the device is, for people ("cuda: NVIDIA H100…", "cpu: SIMD kernels, 16 threads").</summary>
    public string Name { get; }

    public static InferenceDevice Cpu() => new(null);

    /// <summary>Opens the device named by <paramref name="choice"/>; auto is the first of CUDA, OpenCL and the CPU kernels that opens.</summary>
    /// <exception cref="ArgumentException">Not one of <see cref="Choices"/>.</exception>
    /// <exception cref="InvalidOperationException">The named device is not on this machine (the message says what is).</exception>
    public static InferenceDevice Open(string choice)
    {
        switch (choice)
        {
            case "cpu":
                return Cpu();
            case "cuda" or "opencl" or "ilgpu-cpu":
                return new InferenceDevice(GpuDevice.Open(choice));
            case "auto":
                foreach (var kind in new[] { "cuda", "opencl" })
                {
                    try
                    {
                        return new InferenceDevice(GpuDevice.Open(kind));
                    }
                    catch (InvalidOperationException)
                    {
                        // Not on this machine: try the next kind.
                    }
                }

                return Cpu();
            default:
                throw new ArgumentException($"Unknown device '{choice}': use {string.Join(", ", Choices)}.", nameof(choice));
        }
    }

    /// <summary>The engine's device on the accelerator the agent already opened: its GPU, or the CPU kernels when that is ILGPU's CPU accelerator.</summary>
    public static InferenceDevice For(ComputeDevice compute)
    {
        ArgumentNullException.ThrowIfNull(compute);
        return compute.Info.Kind == DeviceKind.Cpu ? Cpu() : new InferenceDevice(new GpuDevice(compute.Accelerator, compute.Info));
    }

    /// <summary>The devices <c>bench</c> measures by default: the CPU kernels and every GPU kind this machine has.</summary>
    public static IReadOnlyList<string> Present()
    {
        using var context = DeviceCatalog.CreateContext();
        List<string> present = ["cpu"];
        present.AddRange(new[] { ("cuda", DeviceKind.Cuda), ("opencl", DeviceKind.OpenCL) }
            .Where(k => context.Devices.Any(d => DeviceCatalog.KindOf(d) == k.Item2))
            .Select(k => k.Item1));
        return present;
    }

    public IReadOnlyDictionary<string, Tensor> Run(OnnxModel model, IReadOnlyDictionary<string, Tensor> feeds, out long flops, out long peakLiveBytes)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Run(feeds, Gpu, out flops, out peakLiveBytes);
    }

    public void Dispose()
    {
        // A GPU device made over the agent's own accelerator frees only its weights; the accelerator stays.
        Gpu?.Dispose();
    }
}
