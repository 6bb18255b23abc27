using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// C (m×n) = A (m×k) · B (k×n), row-major, on the CPU: register-blocked 4 rows × 24 columns with
/// 256-bit fused multiply-adds, k blocked so a panel of B stays in cache, work split across cores by
/// rows (or by columns when there are few rows).
/// </summary>
internal static class GemmKernel
{
    private const int Rows = 4;
    private const int Columns = 24;
    private const int KBlock = 256;

    /// <summary>Below this many multiply-adds a single thread is faster than splitting.</summary>
    public const long ParallelThreshold = 1 << 20;

    /// <param name="parallel">Whether a large product may be split across cores (false when the caller already runs products in parallel).</param>
    public static void Multiply(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int m, int k, int n, bool parallel = true)
    {
        c.AsSpan(cOffset, m * n).Clear();
        if (m == 0 || n == 0 || k == 0)
        {
            return;
        }

        var work = (long)m * n * k;
        var threads = work < ParallelThreshold || !parallel ? 1 : Environment.ProcessorCount;
        if (threads == 1)
        {
            Block(a, aOffset, b, bOffset, c, cOffset, k, n, 0, m, 0, n);
        }
        else if (m >= Rows * threads)
        {
            var chunk = ((m + threads - 1) / threads + Rows - 1) / Rows * Rows;
            Parallel.For(0, (m + chunk - 1) / chunk, t => Block(a, aOffset, b, bOffset, c, cOffset, k, n, t * chunk, Math.Min(m, (t + 1) * chunk), 0, n));
        }
        else
        {
            var chunk = ((n + threads - 1) / threads + Columns - 1) / Columns * Columns;
            Parallel.For(0, (n + chunk - 1) / chunk, t => Block(a, aOffset, b, bOffset, c, cOffset, k, n, 0, m, t * chunk, Math.Min(n, (t + 1) * chunk)));
        }
    }

    private static void Block(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int k, int n, int row0, int row1, int col0, int col1)
    {
        ref var A = ref MemoryMarshal.GetArrayDataReference(a);
        ref var B = ref MemoryMarshal.GetArrayDataReference(b);
        ref var C = ref MemoryMarshal.GetArrayDataReference(c);
        A = ref Unsafe.Add(ref A, aOffset);
        B = ref Unsafe.Add(ref B, bOffset);
        C = ref Unsafe.Add(ref C, cOffset);
        if (row1 - row0 < Rows)
        {
            // Too few rows for the register block (a batch of one): wide multiply-adds along whole rows of B.
            RowWise(a, aOffset, b, bOffset, c, cOffset, k, n, row0, row1, col0, col1, 0, k);
            return;
        }

        for (var p0 = 0; p0 < k; p0 += KBlock)
        {
            var p1 = Math.Min(k, p0 + KBlock);
            var j = col0;
            for (; j + Columns <= col1; j += Columns)
            {
                var i = row0;
                for (; i + Rows <= row1; i += Rows)
                {
                    Kernel4x24(ref A, ref B, ref C, k, n, i, j, p0, p1);
                }

                if (i < row1)
                {
                    // Too few rows left for the register block: stream B rows through wide multiply-adds instead.
                    RowWise(a, aOffset, b, bOffset, c, cOffset, k, n, i, row1, j, j + Columns, p0, p1);
                }
            }

            if (j < col1)
            {
                RowWise(a, aOffset, b, bOffset, c, cOffset, k, n, row0, row1, j, col1, p0, p1);
            }
        }
    }

    /// <summary>C[i, j0..j1) += Σp A[i, p] · B[p, j0..j1): one vectorised multiply-add per (row, p).</summary>
    private static void RowWise(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int k, int n, int row0, int row1, int j0, int j1, int p0, int p1)
    {
        var width = j1 - j0;
        for (var i = row0; i < row1; i++)
        {
            var row = c.AsSpan(cOffset + (i * n) + j0, width);
            for (var p = p0; p < p1; p++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.AsSpan(bOffset + (p * n) + j0, width), a[aOffset + (i * k) + p], row, row);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel4x24(ref float a, ref float b, ref float c, int k, int n, int i, int j, int p0, int p1)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        for (var p = p0; p < p1; p++)
        {
            var row = (nuint)((p * n) + j);
            var b0 = Vector256.LoadUnsafe(ref b, row);
            var b1 = Vector256.LoadUnsafe(ref b, row + 8);
            var b2 = Vector256.LoadUnsafe(ref b, row + 16);
            var a0 = Vector256.Create(Unsafe.Add(ref a, (i * k) + p));
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector256.FusedMultiplyAdd(a0, b2, c02);
            var a1 = Vector256.Create(Unsafe.Add(ref a, ((i + 1) * k) + p));
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector256.FusedMultiplyAdd(a1, b2, c12);
            var a2 = Vector256.Create(Unsafe.Add(ref a, ((i + 2) * k) + p));
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector256.FusedMultiplyAdd(a2, b2, c22);
            var a3 = Vector256.Create(Unsafe.Add(ref a, ((i + 3) * k) + p));
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector256.FusedMultiplyAdd(a3, b2, c32);
        }

        Accumulate(ref c, (nuint)((i * n) + j), c00, c01, c02);
        Accumulate(ref c, (nuint)(((i + 1) * n) + j), c10, c11, c12);
        Accumulate(ref c, (nuint)(((i + 2) * n) + j), c20, c21, c22);
        Accumulate(ref c, (nuint)(((i + 3) * n) + j), c30, c31, c32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref float c, nuint at, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2)
    {
        (Vector256.LoadUnsafe(ref c, at) + v0).StoreUnsafe(ref c, at);
        (Vector256.LoadUnsafe(ref c, at + 8) + v1).StoreUnsafe(ref c, at + 8);
        (Vector256.LoadUnsafe(ref c, at + 16) + v2).StoreUnsafe(ref c, at + 16);
    }
}
