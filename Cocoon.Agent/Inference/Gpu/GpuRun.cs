using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Operators;
using ILGPU;
using ILGPU.Runtime;
using AV = ILGPU.ArrayView<float>;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>
/// One model run on a <see cref="GpuDevice"/>: launches the kernels operators ask for, keeps each
/// intermediate value in device memory for as long as the graph reads it, and frees what the run
/// allocated when it ends. Host tensors (inputs, or outputs of operators that ran on the CPU) are
/// uploaded once per run; model weights once per device.
/// </summary>
internal sealed class GpuRun : IDisposable
{
    private readonly GpuDevice _device;
    private readonly IReadOnlySet<Tensor> _weights;
    private readonly List<DeviceBuffer> _owned = [];
    private readonly Dictionary<Tensor, DeviceBuffer> _uploads = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<DeviceBuffer, int> _liveValues = new(ReferenceEqualityComparer.Instance);

    public GpuRun(GpuDevice device, IReadOnlySet<Tensor> weights)
    {
        _device = device;
        _weights = weights;
    }

    /// <summary>The kernels operators launched in this run (the tests use it to prove an operator ran on the device).</summary>
    public int Launches { get; private set; }

    /// <summary>Waits for the kernels launched so far (profiling times each node).</summary>
    public void Synchronize() => _device.Accelerator.Synchronize();

    /// <summary>The tensor's elements on the device, uploading host tensors on first use.</summary>
    public AV View(Tensor t)
    {
        if (t.Type != ElementType.Float32)
        {
            throw new ModelException($"a {t.Type} tensor cannot go to a float kernel.");
        }

        if (t.Device is { } device)
        {
            return device.View;
        }

        if (_weights.Contains(t))
        {
            return _device.Weight(t).View;
        }

        if (!_uploads.TryGetValue(t, out var buffer))
        {
            buffer = _device.Allocate(t.Length);
            buffer.Upload(t.Data);
            _uploads[t] = buffer;
        }

        return buffer.View;
    }

    /// <summary>A float tensor of <paramref name="shape"/> in device memory, for a kernel to fill.</summary>
    public Tensor New(int[] shape, out AV view)
    {
        var buffer = _device.Allocate(Tensor.CheckedCount(shape));
        _owned.Add(buffer);
        view = buffer.View;
        return new Tensor(shape, buffer);
    }

    /// <summary>A small host array uploaded for the length of the run (indices, per-channel factors).</summary>
    private AV Constant(float[] values)
    {
        var buffer = _device.Allocate(values.Length);
        buffer.Upload(values);
        _owned.Add(buffer);
        return buffer.View;
    }

    /// <summary>The graph stored <paramref name="t"/> as a value: its device memory stays until every value using it is released.</summary>
    public void Retain(Tensor t)
    {
        if (t.Device is { } buffer)
        {
            _liveValues[buffer] = _liveValues.GetValueOrDefault(buffer) + 1;
        }
    }

    /// <summary>The graph dropped a value: free its device memory once no live value shares it.</summary>
    public void Release(Tensor t)
    {
        if (t.Device is { } buffer && _liveValues.TryGetValue(buffer, out var count))
        {
            if (count > 1)
            {
                _liveValues[buffer] = count - 1;
                return;
            }

            _liveValues.Remove(buffer);
            buffer.Dispose();
        }
        else if (_uploads.Remove(t, out var upload))
        {
            upload.Dispose();
        }
    }

    public Tensor Unary(Tensor x, UnaryOp op, float p = 0, float q = 0)
    {
        var y = New(x.Shape, out var output);
        if (x.Length > 0)
        {
            Kernel(nameof(GpuKernels.Unary), a => a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, UnaryArguments>(GpuKernels.Unary))(
                x.Length, View(x), output, new UnaryArguments { Op = (int)op, P = p, Q = q });
        }

        return y;
    }

    public Tensor Binary(Tensor a, Tensor b, BinaryOp op, int[] shape)
    {
        var y = New(shape, out var output);
        if (y.Length > 0)
        {
            Kernel(nameof(GpuKernels.Binary), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV, int, Dims6, Dims6, Dims6>(GpuKernels.Binary))(
                y.Length, View(a), View(b), output, (int)op, Dims6.From(shape, 1), Dims6.From(Broadcasting.Strides(a.Shape, shape), 0), Dims6.From(Broadcasting.Strides(b.Shape, shape), 0));
        }

        return y;
    }

    /// <summary>A new tensor of <paramref name="shape"/> whose element at index i reads x at offset + Σ (i_d mod wrap_d) · strides_d.</summary>
    public Tensor Copy(Tensor x, int[] shape, int[] strides, int offset, int[]? wrap = null)
    {
        var y = New(shape, out var output);
        var walk = new Walk { Shape = Dims6.From(shape, 1), Strides = Dims6.From(strides, 0), Wrap = Dims6.From(wrap ?? shape, 1), Offset = offset };
        if (y.Length > 0)
        {
            Kernel(nameof(GpuKernels.Copy), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, Walk>(GpuKernels.Copy))(y.Length, View(x), output, walk);
        }

        return y;
    }

    /// <summary>A tensor broadcast to <paramref name="shape"/> (Expand, and stretching a scale or bias).</summary>
    public Tensor Broadcast(Tensor x, int[] shape) => Copy(x, shape, Broadcasting.Strides(x.Shape, shape), 0);

    /// <summary>Inputs joined along <paramref name="axis"/>, each written into its window of the output.</summary>
    public Tensor Concat(IReadOnlyList<Tensor> inputs, int axis, int[] shape)
    {
        var y = New(shape, out var output);
        var strides = Shapes.RowMajorStrides(shape);
        var place = Kernel(nameof(GpuKernels.Place), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, Walk>(GpuKernels.Place));
        var at = 0;
        foreach (var input in inputs)
        {
            if (input.Length > 0)
            {
                var walk = new Walk { Shape = Dims6.From(input.Shape, 1), Strides = Dims6.From(strides, 0), Wrap = Dims6.From(input.Shape, 1), Offset = at * strides[axis] };
                place(input.Length, View(input), output, walk);
            }

            at += input.Shape[axis];
        }

        return y;
    }

    /// <summary>Gather along an axis: x seen as (outer, dim, inner), positions already resolved to [0, dim).</summary>
    public Tensor Gather(Tensor x, int axis, int[] positions, int[] shape)
    {
        var y = New(shape, out var output);
        if (y.Length == 0)
        {
            return y;
        }

        var buffer = _device.Accelerator.Allocate1D(positions);
        try
        {
            var inner = (int)Tensor.ElementCount(x.Shape.AsSpan(axis + 1));
            if (y.Length > 0)
            {
                Kernel(nameof(GpuKernels.Gather), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, ArrayView<int>, AV, int, int, int>(GpuKernels.Gather))(
                    y.Length, View(x), buffer.View.AsContiguous(), output, positions.Length, x.Shape[axis], inner);
            }

            _device.Accelerator.Synchronize();
        }
        finally
        {
            buffer.Dispose();
        }

        return y;
    }

    /// <summary>Batched alpha · op(A) · op(B) + beta · bias into a new device tensor of <paramref name="shape"/> (see <see cref="GemmInto"/>).</summary>
    public Tensor Gemm(Tensor a, Tensor b, Tensor? bias, int[] shape, GemmArguments g)
    {
        var y = New(shape, out var output);
        if (y.Length > 0)
        {
            Launches += GemmInto(_device, View(a), View(b), bias is null ? null : View(bias), output, g, y.Length / (g.M * g.N));
        }

        return y;
    }

    /// <summary>
    /// Launches batched alpha · op(A) · op(B) + beta · bias into <paramref name="output"/>; the strides in
    /// <paramref name="g"/> say how each operand is laid out. On a GPU, products with at least 64 rows
    /// and 64 columns run <see cref="GpuKernels.GemmBlocked"/> (128 × 128 blocks, 8 × 8 outputs a
    /// thread); smaller ones the 16 × 16 shared-memory tile (the largest square the device's groups
    /// hold, at most 16), where a 128-wide block would leave most threads idle. On ILGPU's CPU
    /// accelerator, one thread per output unless the device is told to check the tiled kernels.
    /// <paramref name="blocked"/> forces one GPU kernel or the other (the GPU harness times both).
    /// Returns the number of kernels launched (two when k is split).
    /// </summary>
    internal static int GemmInto(GpuDevice device, AV a, AV b, AV? bias, AV output, GemmArguments g, int batches, bool? blocked = null)
    {
        var biasView = bias ?? output;
        if (!device.TiledGemm)
        {
            device.Kernel(nameof(GpuKernels.Gemm), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV, AV, GemmArguments>(GpuKernels.Gemm))(
                batches * g.M * g.N, a, b, biasView, output, g);
            return 1;
        }

        var side = GpuKernels.BlockThreads;
        if ((blocked ?? (g.M >= 64 && g.N >= 64)) && device.Accelerator.MaxNumThreadsPerGroup >= side * side)
        {
            var (columnBlocks, rowBlocks) = ((g.N + GpuKernels.BlockTile - 1) / GpuKernels.BlockTile, (g.M + GpuKernels.BlockTile - 1) / GpuKernels.BlockTile);
            var groups = columnBlocks * rowBlocks * batches;

            // Too few groups to give every multiprocessor one (a 2048 × 256 product has 32 for an H100's
            // 132): split k into stretches of at least 64, each summed into its own slice, then added up.
            var splits = Math.Clamp(Math.Min((device.Multiprocessors + groups - 1) / groups, g.K / 64), 1, 8);
            var depth = Math.Max(8, ((g.K + splits - 1) / splits + 7) / 8 * 8);
            splits = Math.Max(1, (g.K + depth - 1) / depth);
            g.Splits = splits;
            g.SplitDepth = depth;
            using var partial = splits > 1 ? device.Allocate(splits * batches * g.M * g.N) : null;
            var blocks = new KernelConfig(new Index3D(columnBlocks, rowBlocks, batches * splits), new Index3D(side, side, 1));
            device.Kernel(nameof(GpuKernels.GemmBlocked), k => k.LoadStreamKernel<AV, AV, AV, AV, GemmArguments>(GpuKernels.GemmBlocked))(
                blocks, a, b, biasView, partial?.View ?? output, g);
            if (partial is not null)
            {
                var count = batches * g.M * g.N;
                device.Kernel(nameof(GpuKernels.GemmSplitSum), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV, GemmArguments, int>(GpuKernels.GemmSplitSum))(
                    count, partial.View, biasView, output, g, count);
            }

            return splits > 1 ? 2 : 1;
        }

        var tile = Math.Min(16, (int)Math.Sqrt(device.Accelerator.MaxNumThreadsPerGroup));
        var config = new KernelConfig(
            new Index3D((g.N + tile - 1) / tile, (g.M + tile - 1) / tile, batches),
            new Index3D(tile, tile, 1),
            SharedMemoryConfig.RequestDynamic<float>(2 * tile * tile));
        device.Kernel(nameof(GpuKernels.GemmTiled), k => k.LoadStreamKernel<AV, AV, AV, AV, GemmArguments>(GpuKernels.GemmTiled))(
            config, a, b, biasView, output, g);
        return 1;
    }

    public Tensor Conv(Tensor x, Tensor w, Tensor? bias, ConvArguments s, bool transposed)
    {
        var y = New([s.Batch, s.Filters, s.OutHeight, s.OutWidth], out var output);
        var (name, method) = transposed
            ? (nameof(GpuKernels.ConvTranspose), (Action<Index1D, AV, AV, AV, AV, ConvArguments>)GpuKernels.ConvTranspose)
            : (nameof(GpuKernels.Conv), GpuKernels.Conv);
        if (y.Length > 0)
        {
            Kernel(name, k => k.LoadAutoGroupedStreamKernel(method))(y.Length, View(x), View(w), bias is null ? output : View(bias), output, s);
        }

        return y;
    }

    public Tensor Pool(Tensor x, ConvArguments s)
    {
        var y = New([x.Shape[0], x.Shape[1], s.OutHeight, s.OutWidth], out var output);
        if (y.Length > 0)
        {
            Kernel(nameof(GpuKernels.Pool), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, ConvArguments>(GpuKernels.Pool))(y.Length, View(x), output, s);
        }

        return y;
    }

    /// <summary>Sum (0), mean (1) or max (2) over the middle of x seen as (outer, size, inner), <paramref name="empty"/> where size is 0; the result has <paramref name="shape"/>.</summary>
    public Tensor Reduce(Tensor x, int size, int inner, int op, int[] shape, float empty)
    {
        var y = New(shape, out var output);
        if (y.Length > 0)
        {
            Kernel(nameof(GpuKernels.Reduce), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, int, int, int, float>(GpuKernels.Reduce))(y.Length, View(x), output, size, inner, op, empty);
        }

        return y;
    }

    public Tensor Softmax(Tensor x, int size, int inner, bool log)
    {
        var y = New(x.Shape, out var output);
        var rows = size == 0 ? 0 : x.Length / size;
        if (rows > 0)
        {
            Kernel(nameof(GpuKernels.Softmax), k => k.LoadStreamKernel<AV, AV, int, int, int>(GpuKernels.Softmax))(
                RowGroups(rows, size), View(x), output, size, inner, log ? 1 : 0);
        }

        return y;
    }

    public Tensor LayerNorm(Tensor x, Tensor scale, Tensor bias, int size, float epsilon)
    {
        var y = New(x.Shape, out var output);
        var rows = size == 0 ? 0 : x.Length / size;
        if (rows > 0)
        {
            Kernel(nameof(GpuKernels.LayerNorm), k => k.LoadStreamKernel<AV, AV, AV, AV, int, float>(GpuKernels.LayerNorm))(
                RowGroups(rows, size), View(x), View(scale), View(bias), output, size, epsilon);
        }

        return y;
    }

    /// <summary>y = x · a[c] + b[c] per channel c of (…, channels, inner), with a and b computed on the host.</summary>
    public Tensor ChannelAffine(Tensor x, float[] a, float[] b, int channels, int inner) =>
        ChannelAffine(x, Constant(a), Constant(b), channels, inner);

    public Tensor Lrn(Tensor x, int channels, int inner, int size, float alpha, float beta, float bias)
    {
        var y = New(x.Shape, out var output);
        if (y.Length > 0)
        {
            Kernel(nameof(GpuKernels.Lrn), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, int, int, int, float, float, float>(GpuKernels.Lrn))(
                y.Length, View(x), output, channels, inner, size, alpha, beta, bias);
        }

        return y;
    }

    /// <summary>InstanceNormalization: per-plane statistics on the device, then one affine pass.</summary>
    public Tensor InstanceNorm(Tensor x, Tensor scale, Tensor bias, float epsilon)
    {
        var (planes, size) = (x.Shape[0] * x.Shape[1], (int)Tensor.ElementCount(x.Shape.AsSpan(2)));
        New([planes], out var a);
        New([planes], out var b);
        if (planes > 0)
        {
            Kernel(nameof(GpuKernels.PlaneStatistics), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV, AV, AV, int, int, float>(GpuKernels.PlaneStatistics))(
                planes, View(x), View(scale), View(bias), a, b, size, x.Shape[1], epsilon);
        }

        return ChannelAffine(x, a, b, planes, size);
    }

    public Tensor Pad(Tensor x, int[] shape, int[] begin, int mode, float value)
    {
        var y = New(shape, out var output);
        var args = new PadArguments { Output = Dims6.From(shape, 1), Input = Dims6.From(x.Shape, 1), Begin = Dims6.From(begin, 0), Mode = mode, Value = value };
        if (y.Length > 0)
        {
            Kernel(nameof(GpuKernels.Pad), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, PadArguments>(GpuKernels.Pad))(y.Length, View(x), output, args);
        }

        return y;
    }

    /// <summary>
    /// One group per row for the row kernels (Softmax, LayerNorm): as many threads as the row has
    /// elements, rounded up to a power of two from 32, at most 256 and at most what the device's
    /// groups hold; one float of shared memory per thread.
    /// </summary>
    private KernelConfig RowGroups(int rows, int size)
    {
        var most = 1;
        while (most * 2 <= Math.Min(256, _device.Accelerator.MaxNumThreadsPerGroup))
        {
            most *= 2;
        }

        var width = Math.Min(32, most);
        while (width < size && width < most)
        {
            width *= 2;
        }

        return new KernelConfig(new Index1D(rows), new Index1D(width), SharedMemoryConfig.RequestDynamic<float>(width));
    }

    /// <summary>Whether a shape fits the kernels' six-dimension arguments.</summary>
    public static bool Fits(params int[][] shapes) => shapes.All(s => s.Length <= Dims6.MaxRank);

    private Tensor ChannelAffine(Tensor x, AV a, AV b, int channels, int inner)
    {
        var y = New(x.Shape, out var output);
        if (y.Length > 0)
        {
            Kernel(nameof(GpuKernels.ChannelAffine), k => k.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV, AV, int, int>(GpuKernels.ChannelAffine))(
                y.Length, View(x), a, b, output, channels, inner);
        }

        return y;
    }

    /// <summary>The kernel to launch now (callers launch nothing for an empty tensor).</summary>
    private TDelegate Kernel<TDelegate>(string name, Func<Accelerator, TDelegate> load)
        where TDelegate : Delegate
    {
        Launches++;
        return _device.Kernel(name, load);
    }

    public void Dispose()
    {
        foreach (var buffer in _owned.Concat(_uploads.Values))
        {
            buffer.Dispose();
        }

        _owned.Clear();
        _uploads.Clear();
        _liveValues.Clear();
    }
}
