using System.Runtime.CompilerServices;
using Cocoon.Shared.Agents;
using ILGPU;
using ILGPU.Runtime;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>
/// An ILGPU accelerator the ONNX engine runs on: its kernels (compiled on first use), and the weights of
/// the models run on it, uploaded once and kept (zeroed, then freed) until the device is disposed, and
/// the device memory runs freed, kept zeroed for the next run. One run at a time.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    private readonly Context? _ownedContext;
    private readonly bool _ownsAccelerator;
    private readonly ConditionalWeakTable<Tensor, DeviceBuffer> _weights = [];
    private readonly List<DeviceBuffer> _weightBuffers = [];
    private readonly Dictionary<string, Delegate> _kernels = new(StringComparer.Ordinal);
    private long _launches;
    private int? _multiprocessors;

    /// <summary>Runs on an accelerator someone else owns (the agent's compute device).</summary>
    internal GpuDevice(Accelerator accelerator, DeviceInfo info)
        : this(accelerator, info, null, ownsAccelerator: false)
    {
    }

    /// <summary>Runs on an accelerator it owns (with its context, when given): disposing the device closes them.</summary>
    internal GpuDevice(Accelerator accelerator, DeviceInfo info, Context? ownedContext, bool ownsAccelerator)
    {
        Accelerator = accelerator;
        Info = info;
        TiledGemm = info.Kind != DeviceKind.Cpu;
        _ownedContext = ownedContext;
        _ownsAccelerator = ownsAccelerator;
        Pool = new DevicePool(accelerator);
    }

    public DeviceInfo Info { get; }

    /// <summary>
    /// Whether products use the shared-memory tiled GEMM: yes on GPUs; on ILGPU's CPU accelerator only
    /// when a test asks (its barriers are OS-thread rendezvous, far too slow for whole models).
    /// </summary>
    internal bool TiledGemm { get; set; }

    /// <summary>
    /// Multiprocessors the blocked GEMM tries to give a group each (splitting k when a product has
    /// fewer groups): the device's own count, unless a test sets more to make ILGPU's CPU accelerator split.
    /// </summary>
    internal int Multiprocessors
    {
        get => _multiprocessors ?? Accelerator.NumMultiprocessors;
        set => _multiprocessors = value;
    }

    /// <summary>Kernels launched on this device by model runs so far.</summary>
    public long KernelLaunches => Interlocked.Read(ref _launches);

    /// <summary>Held while a model runs: kernels share one stream and the weight cache.</summary>
    internal Lock Gate { get; } = new();

    internal Accelerator Accelerator { get; }

    /// <summary>Freed device memory kept for the next run (allocating and freeing synchronise the device).</summary>
    internal DevicePool Pool { get; }

    internal DeviceBuffer Allocate(int length) => new(Pool, length);

    internal void CountLaunches(int launches) => Interlocked.Add(ref _launches, launches);

    /// <summary>A model weight's device copy, uploaded on first use.</summary>
    internal DeviceBuffer Weight(Tensor weight)
    {
        if (!_weights.TryGetValue(weight, out var buffer))
        {
            buffer = Allocate(weight.Length);
            buffer.Upload(weight.Data);
            _weights.Add(weight, buffer);
            _weightBuffers.Add(buffer);
        }

        return buffer;
    }

    /// <summary>
    /// Frees the device copies of <paramref name="weights"/> (a model leaving the agent's cache): their
    /// memory goes back to the pool, which zeroes it before anyone else gets it.
    /// </summary>
    internal void ForgetWeights(IEnumerable<Tensor> weights)
    {
        lock (Gate)
        {
            foreach (var weight in weights)
            {
                if (_weights.TryGetValue(weight, out var buffer))
                {
                    _weights.Remove(weight);
                    _weightBuffers.Remove(buffer);
                    buffer.Dispose();
                }
            }
        }
    }

    /// <summary>The kernel called <paramref name="name"/>, loaded by <paramref name="load"/> the first time it is asked for.</summary>
    internal TDelegate Kernel<TDelegate>(string name, Func<Accelerator, TDelegate> load)
        where TDelegate : Delegate
    {
        if (!_kernels.TryGetValue(name, out var kernel))
        {
            kernel = load(Accelerator);
            _kernels[name] = kernel;
        }

        return (TDelegate)kernel;
    }

    public void Dispose()
    {
        lock (Gate)
        {
            foreach (var buffer in _weightBuffers)
            {
                buffer.Dispose();
            }

            _weightBuffers.Clear();
            _weights.Clear();
            Pool.Dispose();
            if (_ownsAccelerator)
            {
                Accelerator.Dispose();
                _ownedContext?.Dispose();
            }
        }
    }
}
