using Cocoon.Shared.Agents;
using ILGPU;
using ILGPU.Runtime;
using Microsoft.Extensions.Logging;

namespace Cocoon.Agent.Compute;

/// <summary>
/// The accelerator the agent runs work on, with its kernels loaded once and its device buffers reused
/// across calls. Calls are serialised: one accelerator stream, one caller at a time.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly Action<Index3D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _batchedMultiply;
    private readonly Lock _gate = new();
    private MemoryBuffer1D<float, Stride1D.Dense>? _a;
    private MemoryBuffer1D<float, Stride1D.Dense>? _b;
    private MemoryBuffer1D<float, Stride1D.Dense>? _c;

    private ComputeDevice(Context context, Accelerator accelerator, IReadOnlyList<DeviceInfo> allDevices)
    {
        _context = context;
        _accelerator = accelerator;
        AllDevices = allDevices;
        Info = DeviceCatalog.Describe(accelerator.Device);
        _batchedMultiply = accelerator.LoadAutoGroupedStreamKernel<Index3D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(
            MatMulKernels.BatchedMultiply);
    }

    public DeviceInfo Info { get; }

    public IReadOnlyList<DeviceInfo> AllDevices { get; }

    /// <summary>The accelerator the kernels run on (the ONNX engine's GPU runs share it).</summary>
    internal Accelerator Accelerator => _accelerator;

    /// <summary>Opens the best device matching the preference, falling back past devices that fail to open.</summary>
    public static ComputeDevice Open(string preference, ILogger? logger = null)
    {
        var (context, accelerator) = OpenAccelerator(preference, logger);
        try
        {
            return new ComputeDevice(context, accelerator, [.. context.Devices.Select(DeviceCatalog.Describe)]);
        }
        catch
        {
            accelerator.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <summary>A new context and the best accelerator in it matching the preference (auto, cuda, opencl, cpu).</summary>
    internal static (Context Context, Accelerator Accelerator) OpenAccelerator(string preference, ILogger? logger)
    {
        var context = DeviceCatalog.CreateContext();
        try
        {
            var all = context.Devices.Select(DeviceCatalog.Describe).ToList();
            var candidates = DeviceCatalog.Candidates(context, preference);
            if (candidates.Count == 0)
            {
                var found = all.Count == 0 ? "none" : string.Join(", ", all.Select(d => $"{d.Kind} '{d.Name}'"));
                throw new InvalidOperationException($"No {preference} device is available on this machine (found: {found}).");
            }

            var errors = new List<string>();
            foreach (var device in candidates)
            {
                try
                {
                    return (context, device.CreateAccelerator(context));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    logger?.LogWarning("Device {Device} could not be opened: {Reason}", device.Name, ex.Message);
                    errors.Add($"{device.Name}: {ex.Message}");
                }
            }

            throw new InvalidOperationException($"No {preference} device could be opened ({string.Join("; ", errors)}).");
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>C_i = A_i × B_i for <paramref name="count"/> row-major n×n matrices laid end to end.</summary>
    public void MultiplyBatch(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int n, int count)
    {
        var length = (long)n * n * count;
        if (a.Length < length || b.Length < length || c.Length < length)
        {
            throw new ArgumentException($"Each buffer must hold {length} floats for {count} matrices of {n}×{n}.");
        }

        lock (_gate)
        {
            EnsureCapacity(length);
            var aView = _a!.View.AsContiguous().SubView(0, length);
            var bView = _b!.View.AsContiguous().SubView(0, length);
            var cView = _c!.View.AsContiguous().SubView(0, length);
            aView.CopyFromCPU(a[..(int)length]);
            bView.CopyFromCPU(b[..(int)length]);
            _batchedMultiply(new Index3D(n, n, count), aView, bView, cView, n);
            _accelerator.Synchronize();
            cView.CopyToCPU(c[..(int)length]);
        }
    }

    private void EnsureCapacity(long length)
    {
        if (_a is not null && _a.Length >= length)
        {
            return;
        }

        _a?.Dispose();
        _b?.Dispose();
        _c?.Dispose();
        _a = _accelerator.Allocate1D<float>(length);
        _b = _accelerator.Allocate1D<float>(length);
        _c = _accelerator.Allocate1D<float>(length);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _a?.Dispose();
            _b?.Dispose();
            _c?.Dispose();
            _accelerator.Dispose();
            _context.Dispose();
        }
    }
}
