using Cocoon.Agent.Compute;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Shared.Agents;
using Microsoft.Extensions.Logging;

namespace Cocoon.Agent.Inference;

/// <summary>
/// The one device the agent runs everything on (model units, matrix units, <c>infer</c>, <c>bench</c>):
/// an ILGPU accelerator the engine launches its GPU kernels on, or the CPU's own SIMD kernels. Which
/// device each <c>--device</c> word means is <see cref="DeviceCatalog"/>'s; opening it is done here only.
/// </summary>
public sealed class InferenceDevice : IDisposable
{
    private InferenceDevice(DeviceInfo info, GpuDevice? gpu, IReadOnlyList<DeviceInfo> allDevices)
    {
        Info = info;
        Gpu = gpu;
        AllDevices = allDevices;
    }

    /// <summary>The GPU the engine launches kernels on; null for the CPU kernels.</summary>
    public GpuDevice? Gpu { get; }

    /// <summary>The device as the agent reports it to the portal; its name is <see cref="Name"/>.</summary>
    public DeviceInfo Info { get; }

    /// <summary>What the device is, for people and for unit results ("cuda: NVIDIA H100…", "cpu: SIMD kernels, 16 threads").</summary>
    public string Name => Info.Name;

    /// <summary>Every device any choice could open on this machine, this one included.</summary>
    public IReadOnlyList<DeviceInfo> AllDevices { get; }

    /// <summary>The CPU kernels, without looking for accelerators.</summary>
    public static InferenceDevice Cpu() => new(DeviceCatalog.Cpu, null, [DeviceCatalog.Cpu]);

    /// <summary>Opens the first device <paramref name="choice"/> names that opens, logging those that fail.</summary>
    /// <exception cref="ArgumentException">Not one of <see cref="DeviceCatalog.Choices"/>.</exception>
    /// <exception cref="InvalidOperationException">The named device is not on this machine, or none opened (the message says what the machine has).</exception>
    public static InferenceDevice Open(string choice, ILogger? logger = null)
    {
        var context = DeviceCatalog.CreateContext();
        try
        {
            var entries = DeviceCatalog.Entries(context);
            var candidates = DeviceCatalog.Candidates(context, choice);
            if (candidates.Count == 0)
            {
                var words = string.Join(", ", entries.Select(e => e.Choice).Distinct());
                throw new InvalidOperationException($"No {choice} device is available on this machine (it has: {words}; 'cocoon-agent devices' lists them).");
            }

            IReadOnlyList<DeviceInfo> all = [.. entries.Select(e => e.Info)];
            var errors = new List<string>();
            foreach (var candidate in candidates)
            {
                if (candidate.Device is null)
                {
                    context.Dispose();
                    return new InferenceDevice(candidate.Info, null, all);
                }

                try
                {
                    var accelerator = candidate.Device.CreateAccelerator(context);
                    return new InferenceDevice(candidate.Info, new GpuDevice(accelerator, candidate.Info, context, ownsAccelerator: true), all);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    logger?.LogWarning("Device {Device} could not be opened: {Reason}", candidate.Info.Name, ex.Message);
                    errors.Add($"{candidate.Info.Name}: {ex.Message}");
                }
            }

            throw new InvalidOperationException($"No {choice} device could be opened ({string.Join("; ", errors)}).");
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The devices <c>bench</c> measures by default: the CPU kernels and every GPU kind this machine has.</summary>
    public static IReadOnlyList<string> Present()
    {
        using var context = DeviceCatalog.CreateContext();
        return [.. DeviceCatalog.Entries(context).Select(e => e.Choice).Where(c => c != "ilgpu-cpu").Distinct()];
    }

    public IReadOnlyDictionary<string, Tensor> Run(OnnxModel model, IReadOnlyDictionary<string, Tensor> feeds, out long flops, out long peakLiveBytes)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Run(feeds, Gpu, out flops, out peakLiveBytes);
    }

    public void Dispose()
    {
        // The GPU device owns its accelerator and context.
        Gpu?.Dispose();
    }
}
