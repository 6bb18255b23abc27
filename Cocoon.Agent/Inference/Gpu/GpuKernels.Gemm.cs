using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>Matrix products: one thread per output, 16×16 tiles, 128×128 blocks through shared memory, and split-k sums.</summary>
internal static partial class GpuKernels
{
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
