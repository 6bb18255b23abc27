using System.Runtime.CompilerServices;
using ILGPU;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>Element-wise functions of one float, chosen inside <see cref="GpuKernels.Unary"/> by code.</summary>
internal enum UnaryOp
{
    Relu,
    Sigmoid,
    Tanh,
    Exp,
    Log,
    Neg,
    Abs,
    Sqrt,
    Reciprocal,
    Erf,
    LeakyRelu,
    Elu,
    HardSigmoid,
    HardSwish,
    Gelu,
    GeluTanh,
    Clip,
}

/// <summary>Element-wise functions of two broadcast floats, chosen inside <see cref="GpuKernels.Binary"/> by code.</summary>
internal enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Min,
    Max,
}

/// <summary>
/// The ONNX engine's ILGPU kernels. All but the tiled GEMM are implicitly grouped (one thread per
/// output element or row); the tiled GEMM, which GPUs run, is explicitly grouped and shares tiles
/// through shared memory. Each is pure: views and structs in, one view written. The same methods compile to PTX for CUDA, to
/// OpenCL C, and run on ILGPU's CPU accelerator in the tests. Math goes through MathF with ILGPU's
/// Algorithms library enabled, which maps it to each backend's intrinsics.
/// </summary>
internal static class GpuKernels
{
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, UnaryArguments f) => y[i] = Apply(f, x[i]);

    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int op, Dims6 shape, Dims6 aStrides, Dims6 bStrides)
    {
        var p = a[Locate(i, shape, aStrides, shape)];
        var q = b[Locate(i, shape, bStrides, shape)];
        y[i] = op switch
        {
            (int)BinaryOp.Add => p + q,
            (int)BinaryOp.Sub => p - q,
            (int)BinaryOp.Mul => p * q,
            (int)BinaryOp.Div => p / q,
            (int)BinaryOp.Pow => MathF.Pow(p, q),
            (int)BinaryOp.Min => p < q || float.IsNaN(p) ? p : q,
            _ => p > q || float.IsNaN(p) ? p : q,
        };
    }

    /// <summary>y[i] = x[walk(i)]: Transpose, Slice, Split, Expand, Tile and broadcasting a small operand.</summary>
    public static void Copy(Index1D i, ArrayView<float> x, ArrayView<float> y, Walk walk) =>
        y[i] = x[walk.Offset + Locate(i, walk.Shape, walk.Strides, walk.Wrap)];

    /// <summary>y[walk(i)] = x[i]: writes one Concat input into its window of the output.</summary>
    public static void Place(Index1D i, ArrayView<float> x, ArrayView<float> y, Walk walk) =>
        y[walk.Offset + Locate(i, walk.Shape, walk.Strides, walk.Wrap)] = x[i];

    /// <summary>Gather along one axis: x is (outer, dim, inner), the output (outer, count, inner).</summary>
    public static void Gather(Index1D i, ArrayView<float> x, ArrayView<int> positions, ArrayView<float> y, int count, int dim, int inner)
    {
        var r = i % inner;
        var j = i / inner % count;
        var o = i / (inner * count);
        y[i] = x[((o * dim) + positions[j]) * inner + r];
    }

    /// <summary>
    /// One output element of a batched matrix product with optional bias (MatMul and Gemm), reading A
    /// and B straight from global memory: what ILGPU's CPU accelerator runs, where the tiled form's
    /// barriers cost an OS-thread rendezvous per step.
    /// </summary>
    public static void Gemm(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, ArrayView<float> y, GemmArguments g)
    {
        var col = i % g.N;
        var row = i / g.N % g.M;
        var batch = i / (g.N * g.M);
        var aAt = Locate(batch, g.Batch, g.ABatch, g.Batch) + (row * g.ARow);
        var bAt = Locate(batch, g.Batch, g.BBatch, g.Batch) + (col * g.BCol);
        var sum = 0f;
        for (var k = 0; k < g.K; k++)
        {
            sum += a[aAt + (k * g.ACol)] * b[bAt + (k * g.BRow)];
        }

        y[i] = Finish(g, sum, bias, row, col);
    }

    /// <summary>
    /// The batched product tiled through shared memory: a group of tile × tile threads computes a
    /// tile × tile block of C, loading a tile-wide slab of A and of B into shared memory per step, so
    /// each element of A and B is read from global memory once per block rather than once per output.
    /// The grid is (column blocks, row blocks, batch); the tile is the group's width, and the dynamic
    /// shared memory holds 2 · tile² floats.
    /// </summary>
    public static void GemmTiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, ArrayView<float> y, GemmArguments g)
    {
        var tile = Group.DimX;
        var shared = SharedMemory.GetDynamic<float>();
        var (tx, ty) = (Group.IdxX, Group.IdxY);
        var col = (Grid.IdxX * tile) + tx;
        var row = (Grid.IdxY * tile) + ty;
        var batch = Grid.IdxZ;
        var aAt = Locate(batch, g.Batch, g.ABatch, g.Batch);
        var bAt = Locate(batch, g.Batch, g.BBatch, g.Batch);
        var sum = 0f;
        for (var t0 = 0; t0 < g.K; t0 += tile)
        {
            shared[(ty * tile) + tx] = row < g.M && t0 + tx < g.K ? a[aAt + (row * g.ARow) + ((t0 + tx) * g.ACol)] : 0f;
            shared[(tile * tile) + (ty * tile) + tx] = t0 + ty < g.K && col < g.N ? b[bAt + ((t0 + ty) * g.BRow) + (col * g.BCol)] : 0f;
            Group.Barrier();
            for (var k = 0; k < tile; k++)
            {
                sum += shared[(ty * tile) + k] * shared[(tile * tile) + (k * tile) + tx];
            }

            Group.Barrier();
        }

        if (row < g.M && col < g.N)
        {
            y[(((batch * g.M) + row) * g.N) + col] = Finish(g, sum, bias, row, col);
        }
    }

    /// <summary>Rows and columns of C one group of <see cref="GemmBlocked"/> computes.</summary>
    public const int BlockTile = 128;

    /// <summary>Threads along each side of a <see cref="GemmBlocked"/> group (16 × 16 = 256 threads, 8 × 8 outputs each).</summary>
    public const int BlockThreads = 16;

    /// <summary>Depth of the slabs of A and B a <see cref="GemmBlocked"/> group stages in shared memory per step.</summary>
    private const int BlockDepth = 8;

    /// <summary>The A slab's row pitch in shared memory: four floats of padding spread its transposed stores over every bank.</summary>
    private const int APitch = BlockTile + 4;

    /// <summary>
    /// The batched product for large matrices on GPUs: a group of 16 × 16 threads computes a 128 × 128
    /// block of C, each thread an 8 × 8 sub-block held in registers (rows ty + 16i, columns tx + 16j, so
    /// neighbouring threads read neighbouring shared words and write neighbouring outputs). Per step
    /// the group stages an 8-deep slab of A (transposed) and of B in shared memory; each thread then
    /// does 64 multiply-adds for every 16 shared loads, instead of one for every two in the 16 × 16
    /// tile. The next slab is fetched from global memory into registers while the current one is used.
    /// The grid is (column blocks, row blocks, batch × splits of k) with groups of <see cref="BlockThreads"/>².
    /// </summary>
    public static void GemmBlocked(ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, ArrayView<float> y, GemmArguments g)
    {
        var aSlab = SharedMemory.Allocate<float>(BlockDepth * APitch);
        var bSlab = SharedMemory.Allocate<float>(BlockDepth * BlockTile);
        var (tx, ty) = (Group.IdxX, Group.IdxY);
        var thread = (ty * BlockThreads) + tx;
        var row0 = Grid.IdxY * BlockTile;
        var col0 = Grid.IdxX * BlockTile;

        // Split along k (grids too small to fill the GPU): the grid's depth is batches × splits, and
        // each split sums its own stretch of k into a slice of y that GemmSplitSum adds up.
        var batch = Grid.IdxZ / g.Splits;
        var split = Grid.IdxZ % g.Splits;
        var kBegin = split * g.SplitDepth;
        var kEnd = Math.Min(g.K, kBegin + g.SplitDepth);
        var aAt = Locate(batch, g.Batch, g.ABatch, g.Batch);
        var bAt = Locate(batch, g.Batch, g.BBatch, g.Batch);

        // Each thread stages four elements of each slab: A at depth thread % 8 of rows thread / 8 + 32l,
        // B at column thread % 128 of depths thread / 128 + 2l (consecutive threads, consecutive columns).
        var aDepth = thread % BlockDepth;
        var aRow = thread / BlockDepth;
        var bCol = thread % BlockTile;
        var bDepth = thread / BlockTile;
        var aMine = aSlab.SubView(ty, aSlab.Length - ty);
        var bMine = bSlab.SubView(tx, bSlab.Length - tx);
        var a0 = LoadA(a, g, aAt, row0 + aRow, kBegin + aDepth, kEnd);
        var a1 = LoadA(a, g, aAt, row0 + aRow + 32, kBegin + aDepth, kEnd);
        var a2 = LoadA(a, g, aAt, row0 + aRow + 64, kBegin + aDepth, kEnd);
        var a3 = LoadA(a, g, aAt, row0 + aRow + 96, kBegin + aDepth, kEnd);
        var b0 = LoadB(b, g, bAt, kBegin + bDepth, col0 + bCol, kEnd);
        var b1 = LoadB(b, g, bAt, kBegin + bDepth + 2, col0 + bCol, kEnd);
        var b2 = LoadB(b, g, bAt, kBegin + bDepth + 4, col0 + bCol, kEnd);
        var b3 = LoadB(b, g, bAt, kBegin + bDepth + 6, col0 + bCol, kEnd);
        var c = default(Block8);
        for (var k0 = kBegin; k0 < kEnd; k0 += BlockDepth)
        {
            aSlab[(aDepth * APitch) + aRow] = a0;
            aSlab[(aDepth * APitch) + aRow + 32] = a1;
            aSlab[(aDepth * APitch) + aRow + 64] = a2;
            aSlab[(aDepth * APitch) + aRow + 96] = a3;
            bSlab[(bDepth * BlockTile) + bCol] = b0;
            bSlab[((bDepth + 2) * BlockTile) + bCol] = b1;
            bSlab[((bDepth + 4) * BlockTile) + bCol] = b2;
            bSlab[((bDepth + 6) * BlockTile) + bCol] = b3;
            Group.Barrier();

            var next = k0 + BlockDepth;
            if (next < kEnd)
            {
                a0 = LoadA(a, g, aAt, row0 + aRow, next + aDepth, kEnd);
                a1 = LoadA(a, g, aAt, row0 + aRow + 32, next + aDepth, kEnd);
                a2 = LoadA(a, g, aAt, row0 + aRow + 64, next + aDepth, kEnd);
                a3 = LoadA(a, g, aAt, row0 + aRow + 96, next + aDepth, kEnd);
                b0 = LoadB(b, g, bAt, next + bDepth, col0 + bCol, kEnd);
                b1 = LoadB(b, g, bAt, next + bDepth + 2, col0 + bCol, kEnd);
                b2 = LoadB(b, g, bAt, next + bDepth + 4, col0 + bCol, kEnd);
                b3 = LoadB(b, g, bAt, next + bDepth + 6, col0 + bCol, kEnd);
            }

            // Unrolled by hand: with k a constant, each shared load is one instruction at an immediate
            // offset from this thread's first words (a loop would recompute 64-bit addresses per load).
            c = Step(c, aMine, bMine, 0);
            c = Step(c, aMine, bMine, 1);
            c = Step(c, aMine, bMine, 2);
            c = Step(c, aMine, bMine, 3);
            c = Step(c, aMine, bMine, 4);
            c = Step(c, aMine, bMine, 5);
            c = Step(c, aMine, bMine, 6);
            c = Step(c, aMine, bMine, 7);
            Group.Barrier();
        }

        var col = col0 + tx;
        var rowBase = row0 + ty;
        var slice = (split * (Grid.DimZ / g.Splits)) + batch;
        StoreRow(y, g, bias, slice, rowBase, col, c.R0);
        StoreRow(y, g, bias, slice, rowBase + 16, col, c.R1);
        StoreRow(y, g, bias, slice, rowBase + 32, col, c.R2);
        StoreRow(y, g, bias, slice, rowBase + 48, col, c.R3);
        StoreRow(y, g, bias, slice, rowBase + 64, col, c.R4);
        StoreRow(y, g, bias, slice, rowBase + 80, col, c.R5);
        StoreRow(y, g, bias, slice, rowBase + 96, col, c.R6);
        StoreRow(y, g, bias, slice, rowBase + 112, col, c.R7);
    }

    /// <summary>One depth step of <see cref="GemmBlocked"/>: eight A values and eight B values from shared memory, 64 multiply-adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Block8 Step(Block8 c, ArrayView<float> aMine, ArrayView<float> bMine, int k)
    {
        var at = k * BlockTile;
        var b = new Row8(bMine[at], bMine[at + 16], bMine[at + 32], bMine[at + 48], bMine[at + 64], bMine[at + 80], bMine[at + 96], bMine[at + 112]);
        var a = k * APitch;
        return new Block8(
            c.R0.Add(aMine[a], b),
            c.R1.Add(aMine[a + 16], b),
            c.R2.Add(aMine[a + 32], b),
            c.R3.Add(aMine[a + 48], b),
            c.R4.Add(aMine[a + 64], b),
            c.R5.Add(aMine[a + 80], b),
            c.R6.Add(aMine[a + 96], b),
            c.R7.Add(aMine[a + 112], b));
    }

    private static float LoadA(ArrayView<float> a, GemmArguments g, int at, int row, int k, int kEnd) =>
        row < g.M && k < kEnd ? a[at + (row * g.ARow) + (k * g.ACol)] : 0f;

    private static float LoadB(ArrayView<float> b, GemmArguments g, int at, int k, int col, int kEnd) =>
        k < kEnd && col < g.N ? b[at + (k * g.BRow) + (col * g.BCol)] : 0f;

    /// <summary>One thread's eight outputs of a row of C: columns col + 16j, of matrix <paramref name="slice"/> of y (a batch entry, or a split's partial sum of one).</summary>
    private static void StoreRow(ArrayView<float> y, GemmArguments g, ArrayView<float> bias, int slice, int row, int col, Row8 c)
    {
        if (row >= g.M)
        {
            return;
        }

        var at = ((slice * g.M) + row) * g.N;
        Store(y, g, bias, at, row, col, c.V0);
        Store(y, g, bias, at, row, col + 16, c.V1);
        Store(y, g, bias, at, row, col + 32, c.V2);
        Store(y, g, bias, at, row, col + 48, c.V3);
        Store(y, g, bias, at, row, col + 64, c.V4);
        Store(y, g, bias, at, row, col + 80, c.V5);
        Store(y, g, bias, at, row, col + 96, c.V6);
        Store(y, g, bias, at, row, col + 112, c.V7);
    }

    private static void Store(ArrayView<float> y, GemmArguments g, ArrayView<float> bias, int rowAt, int row, int col, float sum)
    {
        if (col < g.N)
        {
            y[rowAt + col] = g.Splits == 1 ? Finish(g, sum, bias, row, col) : sum;
        }
    }

    /// <summary>
    /// Element i of a product split along k: the sum of the splits' partial products (laid out split
    /// by split in <paramref name="partial"/>, each <paramref name="count"/> long), then alpha and the bias.
    /// </summary>
    public static void GemmSplitSum(Index1D i, ArrayView<float> partial, ArrayView<float> bias, ArrayView<float> y, GemmArguments g, int count)
    {
        var sum = 0f;
        for (var s = 0; s < g.Splits; s++)
        {
            sum += partial[(s * count) + i];
        }

        y[i] = Finish(g, sum, bias, i / g.N % g.M, i % g.N);
    }

    /// <summary>alpha · the product, plus beta · the bias broadcast to this element when there is one.</summary>
    private static float Finish(GemmArguments g, float sum, ArrayView<float> bias, int row, int col) =>
        (g.Alpha * sum) + (g.HasBias != 0 ? g.Beta * bias[(row * g.BiasRow) + (col * g.BiasCol)] : 0f);

    /// <summary>One output pixel of a grouped, strided, dilated, padded 2-D convolution (weights [F, C/group, kH, kW]).</summary>
    public static void Conv(Index1D i, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, ConvArguments s)
    {
        var (n, f, oy, ox) = Pixel(i, s);
        var perGroup = s.Channels / s.Group;
        var firstChannel = f / (s.Filters / s.Group) * perGroup;
        var sum = s.HasBias != 0 ? bias[f] : 0f;
        for (var c = 0; c < perGroup; c++)
        {
            var plane = ((n * s.Channels) + firstChannel + c) * s.Height;
            var filter = ((f * perGroup) + c) * s.KernelHeight;
            for (var ky = 0; ky < s.KernelHeight; ky++)
            {
                var iy = (oy * s.StrideY) - s.PadTop + (ky * s.DilationY);
                if (iy < 0 || iy >= s.Height)
                {
                    continue;
                }

                for (var kx = 0; kx < s.KernelWidth; kx++)
                {
                    var ix = (ox * s.StrideX) - s.PadLeft + (kx * s.DilationX);
                    if (ix >= 0 && ix < s.Width)
                    {
                        sum += x[((plane + iy) * s.Width) + ix] * w[((filter + ky) * s.KernelWidth) + kx];
                    }
                }
            }
        }

        y[i] = sum;
    }

    /// <summary>
    /// One output pixel of a 2-D transposed convolution (weights [C, F/group, kH, kW]), gathered: the
    /// input pixels whose scattered window covers it, found by inverting the stride.
    /// </summary>
    public static void ConvTranspose(Index1D i, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, ConvArguments s)
    {
        var (n, f, oy, ox) = Pixel(i, s);
        var perGroupOut = s.Filters / s.Group;
        var perGroupIn = s.Channels / s.Group;
        var g = f / perGroupOut;
        var oc = f % perGroupOut;
        var sum = s.HasBias != 0 ? bias[f] : 0f;
        for (var ic = g * perGroupIn; ic < (g + 1) * perGroupIn; ic++)
        {
            for (var ky = 0; ky < s.KernelHeight; ky++)
            {
                var ty = oy + s.PadTop - (ky * s.DilationY);
                if (ty < 0 || ty % s.StrideY != 0 || ty / s.StrideY >= s.Height)
                {
                    continue;
                }

                for (var kx = 0; kx < s.KernelWidth; kx++)
                {
                    var tx = ox + s.PadLeft - (kx * s.DilationX);
                    if (tx >= 0 && tx % s.StrideX == 0 && tx / s.StrideX < s.Width)
                    {
                        sum += x[((((n * s.Channels) + ic) * s.Height) + (ty / s.StrideY)) * s.Width + (tx / s.StrideX)]
                            * w[((((ic * perGroupOut) + oc) * s.KernelHeight) + ky) * s.KernelWidth + kx];
                    }
                }
            }
        }

        y[i] = sum;
    }

    /// <summary>One output pixel of max or average pooling over a plane of an NCHW tensor.</summary>
    public static void Pool(Index1D i, ArrayView<float> x, ArrayView<float> y, ConvArguments s)
    {
        var ox = i % s.OutWidth;
        var oy = i / s.OutWidth % s.OutHeight;
        var plane = i / (s.OutWidth * s.OutHeight);
        var best = float.NegativeInfinity;
        var sum = 0f;
        var count = 0;
        var padded = 0;
        for (var ky = 0; ky < s.KernelHeight; ky++)
        {
            var iy = (oy * s.StrideY) - s.PadTop + (ky * s.DilationY);
            for (var kx = 0; kx < s.KernelWidth; kx++)
            {
                var ix = (ox * s.StrideX) - s.PadLeft + (kx * s.DilationX);
                if (iy >= 0 && iy < s.Height && ix >= 0 && ix < s.Width)
                {
                    var v = x[(((plane * s.Height) + iy) * s.Width) + ix];
                    best = v > best ? v : best;
                    sum += v;
                    count++;
                }
                else if (iy < s.Height + s.PadBottom && ix < s.Width + s.PadRight)
                {
                    padded++;
                }
            }
        }

        var divisor = s.IncludePad != 0 ? count + padded : count;
        y[i] = s.Max != 0 ? best : sum / (divisor < 1 ? 1 : divisor);
    }

    /// <summary>Sum (0), mean (1) or max (2) over the middle axis of x seen as (outer, size, inner), <paramref name="empty"/> when size is 0; one thread per output.</summary>
    public static void Reduce(Index1D i, ArrayView<float> x, ArrayView<float> y, int size, int inner, int op, float empty)
    {
        var at = (i / inner * size * inner) + (i % inner);
        var sum = 0f;
        var best = float.NegativeInfinity;
        for (var k = 0; k < size; k++)
        {
            var v = x[at + (k * inner)];
            sum += v;
            best = v > best || float.IsNaN(v) ? v : best;
        }

        y[i] = size == 0 ? empty : op == 2 ? best : op == 1 ? sum / size : sum;
    }

    /// <summary>
    /// Softmax (or log-softmax) along one axis, one group of threads per row: x seen as (outer, size,
    /// inner), row r is (r / inner, ·, r % inner). The group's threads stride along the row and meet in
    /// shared memory (one float each, dynamic) for its maximum and its sum of exponentials.
    /// </summary>
    public static void Softmax(ArrayView<float> x, ArrayView<float> y, int size, int inner, int log)
    {
        var partial = SharedMemory.GetDynamic<float>();
        var row = Grid.IdxX;
        var at = (row / inner * size * inner) + (row % inner);
        var max = float.NegativeInfinity;
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            var v = x[at + (k * inner)];
            max = v > max ? v : max;
        }

        max = GroupReduce(partial, max, maximum: true);
        var sum = 0f;
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            sum += MathF.Exp(x[at + (k * inner)] - max);
        }

        sum = GroupReduce(partial, sum, maximum: false);
        var logSum = MathF.Log(sum);
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            var shifted = x[at + (k * inner)] - max;
            y[at + (k * inner)] = log != 0 ? shifted - logSum : MathF.Exp(shifted) / sum;
        }
    }

    /// <summary>
    /// The sum (or maximum) of every thread's <paramref name="value"/> in the group, returned to all of
    /// them: a tree over <paramref name="partial"/> (one float per thread; the group's width is a power of two).
    /// </summary>
    private static float GroupReduce(ArrayView<float> partial, float value, bool maximum)
    {
        var t = Group.IdxX;
        partial[t] = value;
        Group.Barrier();
        for (var half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                var other = partial[t + half];
                var mine = partial[t];
                partial[t] = maximum ? (other > mine ? other : mine) : mine + other;
            }

            Group.Barrier();
        }

        var result = partial[0];
        Group.Barrier();
        return result;
    }

    /// <summary>
    /// LayerNormalization over the last <paramref name="size"/> elements, one group of threads per row:
    /// the mean, then the squares about it (two passes, so nothing is lost to cancellation), each summed across the
    /// group in shared memory (one float per thread, dynamic).
    /// </summary>
    public static void LayerNorm(ArrayView<float> x, ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> y, int size, float epsilon)
    {
        var partial = SharedMemory.GetDynamic<float>();
        var at = Grid.IdxX * size;
        var sum = 0f;
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            sum += x[at + k];
        }

        var mean = GroupReduce(partial, sum, maximum: false) / size;
        var squares = 0f;
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            var d = x[at + k] - mean;
            squares += d * d;
        }

        var inverse = 1f / MathF.Sqrt((GroupReduce(partial, squares, maximum: false) / size) + epsilon);
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            y[at + k] = ((x[at + k] - mean) * inverse * scale[k]) + bias[k];
        }
    }

    /// <summary>y = x · a[c] + b[c] where c is the channel of (…, channels, inner): BatchNormalization and InstanceNormalization.</summary>
    public static void ChannelAffine(Index1D i, ArrayView<float> x, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int channels, int inner)
    {
        var c = i / inner % channels;
        y[i] = (x[i] * a[c]) + b[c];
    }

    /// <summary>Per plane of <paramref name="size"/> values: a = scale/σ and b = bias − mean·a, so that ChannelAffine normalises it.</summary>
    public static void PlaneStatistics(Index1D plane, ArrayView<float> x, ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> a, ArrayView<float> b, int size, int channels, float epsilon)
    {
        var (mean, variance) = Moments(x, plane * size, size);
        var c = plane % channels;
        var factor = scale[c] / MathF.Sqrt(variance + epsilon);
        a[plane] = factor;
        b[plane] = bias[c] - (mean * factor);
    }

    /// <summary>Pad in constant, reflect, edge or wrap mode: each output element finds its source or takes the constant.</summary>
    public static void Pad(Index1D i, ArrayView<float> x, ArrayView<float> y, PadArguments p)
    {
        var rest = i;
        var source = 0;
        var stride = 1;
        var outside = 0;
        for (var d = Dims6.MaxRank - 1; d >= 0; d--)
        {
            var size = Pick(p.Output, d);
            var n = Pick(p.Input, d);
            var at = (rest % size) - Pick(p.Begin, d);
            rest /= size;
            if (at < 0 || at >= n)
            {
                if (p.Mode == 0)
                {
                    outside = 1;
                }
                else if (p.Mode == 2)
                {
                    at = at < 0 ? 0 : n - 1;
                }
                else if (p.Mode == 3)
                {
                    at = ((at % n) + n) % n;
                }
                else
                {
                    var period = n > 1 ? 2 * (n - 1) : 1;
                    var r = ((at % period) + period) % period;
                    at = n == 1 ? 0 : r < n ? r : period - r;
                }
            }

            source += at * stride;
            stride *= n;
        }

        y[i] = outside != 0 ? p.Value : x[source];
    }

    /// <summary>Output element i of an [N, Filters, OutHeight, OutWidth] tensor as (image, filter, row, column).</summary>
    private static (int N, int F, int Y, int X) Pixel(int i, ConvArguments s) =>
        (i / (s.OutWidth * s.OutHeight * s.Filters), i / (s.OutWidth * s.OutHeight) % s.Filters, i / s.OutWidth % s.OutHeight, i % s.OutWidth);

    /// <summary>Mean and (population) variance of x[at, at + size), in two passes for accuracy.</summary>
    private static (float Mean, float Variance) Moments(ArrayView<float> x, int at, int size)
    {
        var mean = 0f;
        for (var k = 0; k < size; k++)
        {
            mean += x[at + k];
        }

        mean /= size;
        var variance = 0f;
        for (var k = 0; k < size; k++)
        {
            var d = x[at + k] - mean;
            variance += d * d;
        }

        return (mean, variance / size);
    }

    private static float Apply(UnaryArguments f, float v) => f.Op switch
    {
        (int)UnaryOp.Relu => v > 0 ? v : 0f,
        (int)UnaryOp.Sigmoid => 1f / (1f + MathF.Exp(-v)),
        (int)UnaryOp.Tanh => MathF.Tanh(v),
        (int)UnaryOp.Exp => MathF.Exp(v),
        (int)UnaryOp.Log => MathF.Log(v),
        (int)UnaryOp.Neg => -v,
        (int)UnaryOp.Abs => MathF.Abs(v),
        (int)UnaryOp.Sqrt => MathF.Sqrt(v),
        (int)UnaryOp.Reciprocal => 1f / v,
        (int)UnaryOp.Erf => Erf(v),
        (int)UnaryOp.LeakyRelu => v >= 0 ? v : f.P * v,
        (int)UnaryOp.Elu => v >= 0 ? v : f.P * (MathF.Exp(v) - 1f),
        (int)UnaryOp.HardSigmoid => Clamp((f.P * v) + f.Q, 0f, 1f),
        (int)UnaryOp.HardSwish => v * Clamp((v / 6f) + 0.5f, 0f, 1f),
        (int)UnaryOp.Gelu => 0.5f * v * (1f + Erf(v * 0.70710678118f)),
        (int)UnaryOp.GeluTanh => 0.5f * v * (1f + MathF.Tanh(0.7978845608f * (v + (0.044715f * v * v * v)))),
        _ => Clamp(v, f.P, f.Q),
    };

    /// <summary>
    /// min(max(v, …)) in the CPU operators' order (the upper bound first, so min wins when min &gt; max),
    /// without the range check Math.Clamp throws from (kernels cannot throw); NaN passes through.
    /// </summary>
    private static float Clamp(float v, float min, float max)
    {
        var upper = v > max ? max : v;
        return upper < min ? min : upper;
    }

    /// <summary>erf to about 1.5e-7 (Abramowitz and Stegun 7.1.26), as the CPU operator computes it.</summary>
    private static float Erf(float x)
    {
        var t = 1f / (1f + (0.3275911f * MathF.Abs(x)));
        var polynomial = ((((((((1.061405429f * t) - 1.453152027f) * t) + 1.421413741f) * t) - 0.284496736f) * t) + 0.254829592f) * t;
        var y = 1f - (polynomial * MathF.Exp(-x * x));
        return x >= 0 ? y : -y;
    }

    /// <summary>Offset of row-major element <paramref name="i"/> of <paramref name="shape"/> under <paramref name="strides"/>, each index taken modulo <paramref name="wrap"/>.</summary>
    private static int Locate(int i, Dims6 shape, Dims6 strides, Dims6 wrap)
    {
        var at = 0;
        for (var d = Dims6.MaxRank - 1; d >= 0; d--)
        {
            var size = Pick(shape, d);
            at += (i % size % Pick(wrap, d)) * Pick(strides, d);
            i /= size;
        }

        return at;
    }

    private static int Pick(Dims6 dims, int d) => d switch
    {
        0 => dims.D0,
        1 => dims.D1,
        2 => dims.D2,
        3 => dims.D3,
        4 => dims.D4,
        _ => dims.D5,
    };
}

/// <summary>One thread's 8 × 8 block of C in <see cref="GpuKernels.GemmBlocked"/>: rows ty + 16i.</summary>
internal readonly record struct Block8(Row8 R0, Row8 R1, Row8 R2, Row8 R3, Row8 R4, Row8 R5, Row8 R6, Row8 R7);

/// <summary>Eight accumulators of one thread's row of C in <see cref="GpuKernels.GemmBlocked"/>: a struct of scalars, so each lives in a register.</summary>
internal readonly record struct Row8(float V0, float V1, float V2, float V3, float V4, float V5, float V6, float V7)
{
    /// <summary>This row plus <paramref name="a"/> times <paramref name="b"/>, element by element (eight fused multiply-adds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Row8 Add(float a, Row8 b) => new(
        V0 + (a * b.V0), V1 + (a * b.V1), V2 + (a * b.V2), V3 + (a * b.V3),
        V4 + (a * b.V4), V5 + (a * b.V5), V6 + (a * b.V6), V7 + (a * b.V7));
}
