using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Cpu;

/// <summary>
/// C (m×n) = A (m×k) · B (k×n), row-major, on the CPU: register-blocked 4 rows × 24 columns with
/// 256-bit fused multiply-adds (4 × 48 with 512-bit ones where the CPU has AVX-512, twice the work per
/// instruction), k blocked and each panel of B packed contiguously so it stays in cache, work split
/// across cores by columns when there are few rows and by rows otherwise.
/// </summary>
internal static class GemmKernel
{
    /// <summary>Rows of A each micro-kernel call computes.</summary>
    public const int Rows = 4;

    /// <summary>Whether the micro-kernel runs on 512-bit vectors (AVX-512): three per row, 48 columns.</summary>
    public static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>Columns of B each micro-kernel call computes, and the width of B's packed panels.</summary>
    private static readonly int Columns = Wide ? 48 : 24;
    /// <summary>Depth of a k-block: a packed panel (KBlock × Columns floats, 24 KiB either way) stays in L1 while the row blocks stream it.</summary>
    private static readonly int KBlock = Wide ? 128 : 256;
    private const int Narrow = 8;

    /// <summary>Rows of A per pass over B's panels: 128 × 256 floats of A (128 KiB) stay in L2.</summary>
    private const int MBlock = 128;

    /// <summary>Rows of A from which packing B's panels pays for the copy.</summary>
    private const int PackRows = 8;

    /// <summary>
    /// Below this many multiply-adds (256 K, about 3 µs on one core) a product stays on one core. With
    /// <see cref="Workers"/> handing out work the split pays from here: a 64×256×256 product went from
    /// 85 to 48 µs on two cores. (Through Parallel.For it took 8 M.)
    /// </summary>
    public const long ParallelThreshold = 1 << 18;

    /// <summary>
    /// Products below this many multiply-adds (8 M) that come in a batch (attention heads, images) run
    /// one per core, rather than each being split across cores.
    /// </summary>
    public const long PerCoreProduct = 1 << 23;

    /// <param name="parallel">Whether a large product may be split across cores (false when the caller already runs products in parallel).</param>
    /// <param name="epilogue">
    /// A bias and an activation applied to C as each block of it is finished, while it is still in
    /// cache; none when null (<see cref="Epilogue.None"/>; not <c>default</c> or <c>new Epilogue()</c>, whose scale is 0).
    /// </param>
    /// <param name="packedB">B's 24-column panels from <see cref="Prepack"/> (B a model weight, offset 0), read in place of packing them on every call.</param>
    public static void Multiply(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int m, int k, int n, bool parallel = true, Epilogue? epilogue = null, float[]? packedB = null)
    {
        var finish = epilogue ?? Epilogue.None;
        if (m == 0 || n == 0)
        {
            return;
        }

        var work = (long)m * n * k;
        // A matrix-vector product is bound by reading B, not by arithmetic: from 64 K elements of B,
        // two cores reading half each (from their own caches) beat one reading all of it.
        var large = work >= ParallelThreshold || (m < Rows && (long)k * n >= 1 << 16);
        var threads = !large || !parallel ? 1 : Workers.Count;
        if (threads == 1)
        {
            Block(a, aOffset, b, bOffset, c, cOffset, k, n, 0, m, 0, n, finish, packedB);
        }
        else if (m >= Rows * threads && (m >= MBlock * threads || n < 2 * Columns * threads))
        {
            var chunk = ((m + threads - 1) / threads + Rows - 1) / Rows * Rows;
            Workers.For((m + chunk - 1) / chunk, t => Block(a, aOffset, b, bOffset, c, cOffset, k, n, t * chunk, Math.Min(m, (t + 1) * chunk), 0, n, finish, packedB));
        }
        else
        {
            // Few rows: each core takes a range of columns and packs only its own panels of B. A
            // matrix-vector product too: split along k instead, two cores summed their halves in an order
            // of their own (a little faster, but its bits then depended on how many cores ran it).
            var chunk = ((n + threads - 1) / threads + Columns - 1) / Columns * Columns;
            Workers.For((n + chunk - 1) / chunk, t => Block(a, aOffset, b, bOffset, c, cOffset, k, n, 0, m, t * chunk, Math.Min(n, (t + 1) * chunk), finish, packedB));
        }
    }

    /// <summary>
    /// Columns [<paramref name="col0"/>, <paramref name="col1"/>) of C = A · B on the calling thread:
    /// one core's share of a product whose callers split the work themselves.
    /// </summary>
    public static void MultiplyColumns(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int m, int k, int n, int col0, int col1, Epilogue? epilogue = null)
    {
        if (m > 0 && col1 > col0)
        {
            Block(a, aOffset, b, bOffset, c, cOffset, k, n, 0, m, col0, col1, epilogue ?? Epilogue.None, packedB: null);
        }
    }

    /// <summary>
    /// B's whole 24-column panels laid out one after another, each all k rows deep ([panel][k][24]): a
    /// model weight packed once at its first product (and kept by the model, <see cref="PackedWeights"/>), so later products stream each panel from
    /// contiguous memory instead of copying it out of B's strided rows on every call (on one core, 32
    /// rows times a 256 × 512 weight went from 92 to about 105 GFLOP/s with the copy gone).
    /// </summary>
    public static float[] Prepack(float[] b, int k, int n)
    {
        var panels = n / Columns;
        var packed = new float[PrepackedLength(k, n)];
        for (var q = 0; q < panels; q++)
        {
            for (var p = 0; p < k; p++)
            {
                b.AsSpan((p * n) + (q * Columns), Columns).CopyTo(packed.AsSpan(((q * k) + p) * Columns, Columns));
            }
        }

        return packed;
    }

    /// <summary>Floats <see cref="Prepack"/> makes of a k × n matrix: its whole 24-column panels.</summary>
    public static long PrepackedLength(int k, int n) => (long)(n / Columns) * k * Columns;

    private static void Block(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int k, int n, int row0, int row1, int col0, int col1, Epilogue epilogue, float[]? packedB)
    {
        // Each k-block × 24-column panel of B is copied once into a contiguous buffer that every
        // 4-row block then streams: B's own rows are n apart, and with n a power of two those strides
        // fight over the same cache sets. With few row blocks the copy costs more than it saves.
        if (col0 % Columns != 0)
        {
            packedB = null; // Panels start at multiples of 24 columns; callers' column splits keep to them.
        }

        var pack = packedB is null && row1 - row0 >= PackRows;
        var panel = pack ? Scratch.Rent(KBlock * Columns) : [];
        try
        {
            for (var m0 = row0; m0 < row1; m0 += MBlock)
            {
                // Rows [m0, m1) of C: started from the bias, accumulated over every k-block, then activated
                // while they are still in cache.
                var m1 = Math.Min(row1, m0 + MBlock);
                epilogue.Start(c, cOffset, n, m0, m1, col0, col1);
                for (var p0 = 0; p0 < k; p0 += KBlock)
                {
                    BlockRows(a, aOffset, b, bOffset, c, cOffset, k, n, m0, m1, col0, col1, p0, Math.Min(k, p0 + KBlock), pack, panel, packedB);
                }

                epilogue.Finish(c, cOffset, n, m0, m1, col0, col1);
            }
        }
        finally
        {
            Scratch.Return(panel);
        }
    }

    /// <summary>One k-block of rows [row0, row1): few enough that their slice of A stays in cache while every panel of B passes.</summary>
    private static void BlockRows(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int k, int n, int row0, int row1, int col0, int col1, int p0, int p1, bool pack, float[] panel, float[]? packedB)
    {
        ref var A = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(a), aOffset);
        ref var B = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(b), bOffset);
        ref var C = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(c), cOffset);
        var j = col0;
        for (; j + Columns <= col1; j += Columns)
        {
            if (pack)
            {
                for (var p = p0; p < p1; p++)
                {
                    b.AsSpan(bOffset + (p * n) + j, Columns).CopyTo(panel.AsSpan((p - p0) * Columns, Columns));
                }
            }

            var i = row0;
            for (; i + Rows <= row1; i += Rows)
            {
                var (source, stride, at) = packedB is not null ? (packedB, Columns, j / Columns * k * Columns) : pack ? (panel, Columns, -p0 * Columns) : (b, n, bOffset + j);
                ref var from = ref MemoryMarshal.GetArrayDataReference(source);
                if (Wide)
                {
                    Kernel4x48(ref A, ref from, ref C, k, n, stride, at, i, j, p0, p1);
                }
                else
                {
                    Kernel4x24(ref A, ref from, ref C, k, n, stride, at, i, j, p0, p1);
                }
            }
        }

        // Columns left over from the 24-wide blocks: 16 (eight accumulators hide the multiply-add
        // latency that four cannot), then 8, then the last few as dot products.
        var full = row0 + ((row1 - row0) / Rows * Rows);
        if (j + (2 * Narrow) <= col1)
        {
            for (var i = row0; i < full; i += Rows)
            {
                Kernel4x16(ref A, ref B, ref C, k, n, i, j, p0, p1);
            }

            j += 2 * Narrow;
        }

        for (; j + Narrow <= col1; j += Narrow)
        {
            for (var i = row0; i < full; i += Rows)
            {
                Kernel4x8(ref A, ref B, ref C, k, n, i, j, p0, p1);
            }
        }

        if (j < col1)
        {
            Dots(a, aOffset, b, bOffset, c, cOffset, k, n, row0, full, j, col1, p0, p1);
        }

        // Rows left over from the 4-row blocks (all of them for a batch of one): each along whole rows of B.
        for (var i = full; i < row1; i++)
        {
            var vectors = col0 + ((col1 - col0) / Narrow * Narrow);
            RowStrip(ref A, ref B, ref C, k, n, i, col0, vectors, p0, p1);
            if (vectors < col1)
            {
                Dots(a, aOffset, b, bOffset, c, cOffset, k, n, i, i + 1, vectors, col1, p0, p1);
            }
        }
    }

    /// <summary>
    /// C[i, j0..j1) += Σp A[i, p] · B[p, j0..j1) for a strip narrower than a vector (the last few
    /// columns, such as a 10-way classifier's last 2): the strip of B is copied out transposed, so
    /// each element is one vectorised dot product of two contiguous rows rather than a walk down B.
    /// </summary>
    private static void Dots(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int k, int n, int row0, int row1, int j0, int j1, int p0, int p1)
    {
        var (width, depth) = (j1 - j0, p1 - p0);
        if (row1 <= row0 || width <= 0 || depth <= 0)
        {
            return;
        }

        var strip = Scratch.Rent(width * depth);
        try
        {
            for (var p = 0; p < depth; p++)
            {
                for (var j = 0; j < width; j++)
                {
                    strip[(j * depth) + p] = b[bOffset + ((p0 + p) * n) + j0 + j];
                }
            }

            for (var i = row0; i < row1; i++)
            {
                var row = a.AsSpan(aOffset + (i * k) + p0, depth);
                for (var j = 0; j < width; j++)
                {
                    c[cOffset + (i * n) + j0 + j] += System.Numerics.Tensors.TensorPrimitives.Dot(row, strip.AsSpan(j * depth, depth));
                }
            }
        }
        finally
        {
            Scratch.Return(strip);
        }
    }

    /// <summary>
    /// C[i..i+4, j..j+24) += A[i..i+4, p0..p1) · B[p0..p1, j..j+24), where row p of that slice of B
    /// starts at <paramref name="b"/>[p · stride + at] (B itself, or its packed panel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel4x24(ref float a, ref float b, ref float c, int k, int n, int stride, int at, int i, int j, int p0, int p1)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        // Each row of A and the slice of B walked by moving references, not recomputed offsets.
        ref var r0 = ref Unsafe.Add(ref a, (i * k) + p0);
        ref var r1 = ref Unsafe.Add(ref r0, k);
        ref var r2 = ref Unsafe.Add(ref r1, k);
        ref var r3 = ref Unsafe.Add(ref r2, k);
        ref var bp = ref Unsafe.Add(ref b, (p0 * stride) + at);
        for (var p = p1 - p0; p > 0; p--)
        {
            var b0 = Vector256.LoadUnsafe(ref bp);
            var b1 = Vector256.LoadUnsafe(ref bp, 8);
            var b2 = Vector256.LoadUnsafe(ref bp, 16);
            var a0 = Vector256.Create(r0);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector256.FusedMultiplyAdd(a0, b2, c02);
            var a1 = Vector256.Create(r1);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector256.FusedMultiplyAdd(a1, b2, c12);
            var a2 = Vector256.Create(r2);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector256.FusedMultiplyAdd(a2, b2, c22);
            var a3 = Vector256.Create(r3);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector256.FusedMultiplyAdd(a3, b2, c32);
            r0 = ref Unsafe.Add(ref r0, 1);
            r1 = ref Unsafe.Add(ref r1, 1);
            r2 = ref Unsafe.Add(ref r2, 1);
            r3 = ref Unsafe.Add(ref r3, 1);
            bp = ref Unsafe.Add(ref bp, stride);
        }

        Accumulate(ref c, (nuint)((i * n) + j), c00, c01, c02);
        Accumulate(ref c, (nuint)(((i + 1) * n) + j), c10, c11, c12);
        Accumulate(ref c, (nuint)(((i + 2) * n) + j), c20, c21, c22);
        Accumulate(ref c, (nuint)(((i + 3) * n) + j), c30, c31, c32);
    }

    /// <summary>
    /// C[i..i+4, j..j+48) += A[i..i+4, p0..p1) · B[p0..p1, j..j+48) on 512-bit vectors, where row p of
    /// that slice of B starts at <paramref name="b"/>[p · stride + at] (B itself, or its packed panel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel4x48(ref float a, ref float b, ref float c, int k, int n, int stride, int at, int i, int j, int p0, int p1)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        ref var r0 = ref Unsafe.Add(ref a, (i * k) + p0);
        ref var r1 = ref Unsafe.Add(ref r0, k);
        ref var r2 = ref Unsafe.Add(ref r1, k);
        ref var r3 = ref Unsafe.Add(ref r2, k);
        ref var bp = ref Unsafe.Add(ref b, (p0 * stride) + at);
        for (var p = p1 - p0; p > 0; p--)
        {
            var b0 = Vector512.LoadUnsafe(ref bp);
            var b1 = Vector512.LoadUnsafe(ref bp, 16);
            var b2 = Vector512.LoadUnsafe(ref bp, 32);
            var a0 = Vector512.Create(r0);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(a0, b2, c02);
            var a1 = Vector512.Create(r1);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(a1, b2, c12);
            var a2 = Vector512.Create(r2);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(a2, b2, c22);
            var a3 = Vector512.Create(r3);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(a3, b2, c32);
            r0 = ref Unsafe.Add(ref r0, 1);
            r1 = ref Unsafe.Add(ref r1, 1);
            r2 = ref Unsafe.Add(ref r2, 1);
            r3 = ref Unsafe.Add(ref r3, 1);
            bp = ref Unsafe.Add(ref bp, stride);
        }

        Accumulate(ref c, (nuint)((i * n) + j), c00, c01, c02);
        Accumulate(ref c, (nuint)(((i + 1) * n) + j), c10, c11, c12);
        Accumulate(ref c, (nuint)(((i + 2) * n) + j), c20, c21, c22);
        Accumulate(ref c, (nuint)(((i + 3) * n) + j), c30, c31, c32);
    }

    /// <summary>C[i..i+4, j..j+16) += A[i..i+4, p0..p1) · B[p0..p1, j..j+16), reading B in place.</summary>
    private static void Kernel4x16(ref float a, ref float b, ref float c, int k, int n, int i, int j, int p0, int p1)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        ref var r0 = ref Unsafe.Add(ref a, (i * k) + p0);
        ref var r1 = ref Unsafe.Add(ref r0, k);
        ref var r2 = ref Unsafe.Add(ref r1, k);
        ref var r3 = ref Unsafe.Add(ref r2, k);
        ref var bp = ref Unsafe.Add(ref b, (p0 * n) + j);
        for (var p = p1 - p0; p > 0; p--)
        {
            var (b0, b1) = (Vector256.LoadUnsafe(ref bp), Vector256.LoadUnsafe(ref bp, 8));
            var a0 = Vector256.Create(r0);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(r1);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(r2);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(r3);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            r0 = ref Unsafe.Add(ref r0, 1);
            r1 = ref Unsafe.Add(ref r1, 1);
            r2 = ref Unsafe.Add(ref r2, 1);
            r3 = ref Unsafe.Add(ref r3, 1);
            bp = ref Unsafe.Add(ref bp, n);
        }

        Accumulate(ref c, (nuint)((i * n) + j), c00, c01);
        Accumulate(ref c, (nuint)(((i + 1) * n) + j), c10, c11);
        Accumulate(ref c, (nuint)(((i + 2) * n) + j), c20, c21);
        Accumulate(ref c, (nuint)(((i + 3) * n) + j), c30, c31);
    }

    /// <summary>C[i..i+4, j..j+8) += A[i..i+4, p0..p1) · B[p0..p1, j..j+8), reading B in place.</summary>
    private static void Kernel4x8(ref float a, ref float b, ref float c, int k, int n, int i, int j, int p0, int p1)
    {
        // Even and odd p in separate accumulators: eight multiply-add chains, where four left the
        // kernel waiting on the instruction's latency.
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, d0 = default, d1 = default, d2 = default, d3 = default;
        ref var r0 = ref Unsafe.Add(ref a, (i * k) + p0);
        ref var r1 = ref Unsafe.Add(ref r0, k);
        ref var r2 = ref Unsafe.Add(ref r1, k);
        ref var r3 = ref Unsafe.Add(ref r2, k);
        ref var bp = ref Unsafe.Add(ref b, (p0 * n) + j);
        var p = p1 - p0;
        for (; p >= 2; p -= 2)
        {
            var (b0, b1) = (Vector256.LoadUnsafe(ref bp), Vector256.LoadUnsafe(ref Unsafe.Add(ref bp, n)));
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(r0), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(r1), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(r2), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(r3), b0, c3);
            d0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref r0, 1)), b1, d0);
            d1 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref r1, 1)), b1, d1);
            d2 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref r2, 1)), b1, d2);
            d3 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref r3, 1)), b1, d3);
            r0 = ref Unsafe.Add(ref r0, 2);
            r1 = ref Unsafe.Add(ref r1, 2);
            r2 = ref Unsafe.Add(ref r2, 2);
            r3 = ref Unsafe.Add(ref r3, 2);
            bp = ref Unsafe.Add(ref bp, 2 * n);
        }

        if (p > 0)
        {
            var b0 = Vector256.LoadUnsafe(ref bp);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(r0), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(r1), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(r2), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(r3), b0, c3);
        }

        for (var r = 0; r < Rows; r++)
        {
            var at = (nuint)(((i + r) * n) + j);
            (Vector256.LoadUnsafe(ref c, at) + (r switch { 0 => c0 + d0, 1 => c1 + d1, 2 => c2 + d2, _ => c3 + d3 })).StoreUnsafe(ref c, at);
        }
    }

    /// <summary>
    /// C[i, j0..j1) += A[i, p0..p1) · B[p0..p1, j0..j1) for one row of A (a matrix-vector product),
    /// j1 − j0 a multiple of 8: four rows of B at a time stream along C's row, so every load of B is
    /// sequential and each load and store of C carries four multiply-adds.
    /// </summary>
    private static void RowStrip(ref float a, ref float b, ref float c, int k, int n, int i, int j0, int j1, int p0, int p1)
    {
        ref var row = ref Unsafe.Add(ref c, (i * n) + j0);
        var width = (nuint)(j1 - j0);
        ref var ap = ref Unsafe.Add(ref a, (i * k) + p0);
        ref var b0 = ref Unsafe.Add(ref b, (p0 * n) + j0);
        var p = p1 - p0;
        for (; p >= 4; p -= 4)
        {
            var (a0, a1, a2, a3) = (Vector256.Create(ap), Vector256.Create(Unsafe.Add(ref ap, 1)), Vector256.Create(Unsafe.Add(ref ap, 2)), Vector256.Create(Unsafe.Add(ref ap, 3)));
            ref var b1 = ref Unsafe.Add(ref b0, n);
            ref var b2 = ref Unsafe.Add(ref b1, n);
            ref var b3 = ref Unsafe.Add(ref b2, n);
            for (nuint j = 0; j < width; j += 8)
            {
                var sum = Vector256.FusedMultiplyAdd(a0, Vector256.LoadUnsafe(ref b0, j), Vector256.LoadUnsafe(ref row, j));
                sum = Vector256.FusedMultiplyAdd(a1, Vector256.LoadUnsafe(ref b1, j), sum);
                sum = Vector256.FusedMultiplyAdd(a2, Vector256.LoadUnsafe(ref b2, j), sum);
                Vector256.FusedMultiplyAdd(a3, Vector256.LoadUnsafe(ref b3, j), sum).StoreUnsafe(ref row, j);
            }

            ap = ref Unsafe.Add(ref ap, 4);
            b0 = ref Unsafe.Add(ref b3, n);
        }

        for (; p > 0; p--)
        {
            var a0 = Vector256.Create(ap);
            for (nuint j = 0; j < width; j += 8)
            {
                Vector256.FusedMultiplyAdd(a0, Vector256.LoadUnsafe(ref b0, j), Vector256.LoadUnsafe(ref row, j)).StoreUnsafe(ref row, j);
            }

            ap = ref Unsafe.Add(ref ap, 1);
            b0 = ref Unsafe.Add(ref b0, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref float c, nuint at, Vector256<float> v0, Vector256<float> v1)
    {
        (Vector256.LoadUnsafe(ref c, at) + v0).StoreUnsafe(ref c, at);
        (Vector256.LoadUnsafe(ref c, at + 8) + v1).StoreUnsafe(ref c, at + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref float c, nuint at, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2)
    {
        (Vector512.LoadUnsafe(ref c, at) + v0).StoreUnsafe(ref c, at);
        (Vector512.LoadUnsafe(ref c, at + 16) + v1).StoreUnsafe(ref c, at + 16);
        (Vector512.LoadUnsafe(ref c, at + 32) + v2).StoreUnsafe(ref c, at + 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref float c, nuint at, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2)
    {
        (Vector256.LoadUnsafe(ref c, at) + v0).StoreUnsafe(ref c, at);
        (Vector256.LoadUnsafe(ref c, at + 8) + v1).StoreUnsafe(ref c, at + 8);
        (Vector256.LoadUnsafe(ref c, at + 16) + v2).StoreUnsafe(ref c, at + 16);
    }
}

/// <summary>What a product's output becomes as it is finished.</summary>
internal enum Activation : byte
{
    None,
    Relu,
    Gelu,
}

/// <summary>
/// What a product writes besides A · B: a residual of C's own shape (a skip connection) and a bias per
/// row of C (a convolution's per-filter bias) or per column (a linear layer's) that C starts from
/// instead of zeros, then a scale (where there is neither) and an activation, applied to each block of
/// rows as soon as it is complete, so that none of them costs a pass of its own. The residual's element
/// for C's element at index i (counted in C's array) is at i + <c>ResidualShift</c> in its own.
/// </summary>
internal readonly record struct Epilogue(
    float[]? RowBias = null,
    int RowBiasAt = 0,
    float[]? ColumnBias = null,
    int ColumnBiasAt = 0,
    Activation Activation = Activation.None,
    float[]? Residual = null,
    float Scale = 1f,
    int ResidualShift = 0)
{
    /// <summary>
    /// C = A · B and nothing else. (A struct's <c>new Epilogue()</c> and <c>default</c> skip the primary
    /// constructor, so their scale is 0 and the product comes out as zeros.)
    /// </summary>
    public static Epilogue None { get; } = new(Scale: 1f);

    /// <summary>C[rows, columns) set to the residual plus the bias (zeros without either).</summary>
    public void Start(float[] c, int cOffset, int n, int row0, int row1, int col0, int col1)
    {
        for (var i = row0; i < row1; i++)
        {
            var at = cOffset + (i * n) + col0;
            var row = c.AsSpan(at, col1 - col0);
            if (Residual is not null)
            {
                var skip = Residual.AsSpan(at + ResidualShift, col1 - col0);
                if (ColumnBias is not null)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(skip, ColumnBias.AsSpan(ColumnBiasAt + col0, col1 - col0), row);
                }
                else if (RowBias is not null)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(skip, RowBias[RowBiasAt + i], row);
                }
                else
                {
                    skip.CopyTo(row);
                }
            }
            else if (ColumnBias is not null)
            {
                ColumnBias.AsSpan(ColumnBiasAt + col0, col1 - col0).CopyTo(row);
            }
            else
            {
                row.Fill(RowBias is null ? 0f : RowBias[RowBiasAt + i]);
            }
        }
    }

    /// <summary>The scale and the activation over all of <paramref name="c"/>.</summary>
    public void Finish(FloatBuffer c) => Finish(c.Array, c.Offset, c.Length, 0, 1, 0, c.Length);

    /// <summary>The scale and the activation over C[rows, columns).</summary>
    public void Finish(float[] c, int cOffset, int n, int row0, int row1, int col0, int col1)
    {
        if (Activation == Activation.None && Scale == 1f)
        {
            return;
        }

        for (var i = row0; i < row1; i++)
        {
            var row = c.AsSpan(cOffset + (i * n) + col0, col1 - col0);
            if (Scale != 1f)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, Scale, row);
            }

            if (Activation == Activation.Relu)
            {
                System.Numerics.Tensors.TensorPrimitives.Max(row, 0f, row);
            }
            else if (Activation == Activation.Gelu)
            {
                VectorMath.Gelu(row, row);
            }
        }
    }
}
