using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Cpu;

/// <summary>The CPU side of every data-movement operator: a strided walk of the source written out in row-major order.</summary>
internal static class StridedCopy
{
    /// <summary>
    /// The walk of <see cref="Shapes.Walk"/> done directly, without an index map: row by row of the last
    /// dimension, each row one block copy when it is contiguous in the source, rows split across cores
    /// for large tensors (a transformer's head transposes at batch 32 move 512 K elements each); where
    /// the last two dimensions are a transpose of the source's, 8 × 8 tiles at a time (<see cref="Tiles"/>).
    /// </summary>
    public static void Copy(FloatBuffer source, FloatBuffer target, int[] shape, int[] strides, int offset, int[]? wrap)
    {
        if (target.Length == 0)
        {
            return;
        }

        var rank = shape.Length;
        if (rank == 0)
        {
            target[0] = source[offset];
            return;
        }

        var (inner, step) = (shape[^1], strides[^1]);
        var innerWrap = wrap?[^1] ?? inner;
        if (inner == 0)
        {
            return;
        }

        if (Avx.IsSupported && rank >= 2 && wrap is null && step != 1 && strides[^2] == 1 && shape[^2] % Tile == 0 && inner >= Tile)
        {
            Tiles(source, target, shape, strides, offset);
            return;
        }

        Chunks.For(target.Length, inner, (first, count) =>
        {
            // The index of the first row of this piece, then counted up row by row.
            var index = new int[rank - 1];
            for (int d = rank - 2, row = first / inner; d >= 0; d--)
            {
                (row, index[d]) = Math.DivRem(row, shape[d]);
            }

            for (var at = first; at < first + count; at += inner)
            {
                var start = offset;
                for (var d = 0; d < rank - 1; d++)
                {
                    start += (wrap is null ? index[d] : index[d] % wrap[d]) * strides[d];
                }

                var line = target.AsSpan(at, inner);
                if (step == 1 && innerWrap >= inner)
                {
                    source.AsSpan(start, inner).CopyTo(line);
                }
                else if (innerWrap >= inner)
                {
                    for (var j = 0; j < inner; j++)
                    {
                        line[j] = source[start + (j * step)];
                    }
                }
                else
                {
                    for (var j = 0; j < inner; j++)
                    {
                        line[j] = source[start + (j % innerWrap * step)];
                    }
                }

                for (var d = rank - 2; d >= 0 && ++index[d] == shape[d]; d--)
                {
                    index[d] = 0;
                }
            }
        });
    }

    /// <summary>Rows and columns of a tile <see cref="Tiles"/> moves through registers.</summary>
    private const int Tile = 8;

    /// <summary>
    /// A copy whose last two dimensions are a transpose of the source's (the second-to-last has stride
    /// 1, the last does not: a matrix transpose, attention's keys turned for Q · Kᵀ): 8 × 8 tiles, each
    /// eight contiguous loads, a transpose in registers and eight contiguous stores, where element by
    /// element every load touched another cache line (1.0–2.0 ns an element on a Zen 3). Rows come in
    /// eights; columns left over past the last whole tile are copied one by one.
    /// </summary>
    private static void Tiles(FloatBuffer source, FloatBuffer target, int[] shape, int[] strides, int offset)
    {
        var (rows, columns, step) = (shape[^2], shape[^1], strides[^1]);
        var outer = shape[..^2];
        var outerStrides = strides[..^2];

        // Pieces are bands of eight output rows: whole tiles, split across cores.
        Chunks.For(target.Length, Tile * columns, (first, count) =>
        {
            for (var at = first; at < first + count; at += Tile * columns)
            {
                var (block, row0) = Math.DivRem(at / columns, rows);
                var from = offset + row0;
                for (int d = outer.Length - 1, rest = block; d >= 0; d--)
                {
                    (rest, var index) = Math.DivRem(rest, outer[d]);
                    from += index * outerStrides[d];
                }

                var band = target.AsSpan(at, Tile * columns);
                var column = 0;
                for (; column + Tile <= columns; column += Tile)
                {
                    Transpose8x8(source, from + (column * step), step, band, column, columns);
                }

                for (; column < columns; column++)
                {
                    for (var r = 0; r < Tile; r++)
                    {
                        band[(r * columns) + column] = source[from + r + (column * step)];
                    }
                }
            }
        });
    }

    /// <summary>
    /// target[r · width + column + c] = source[from + r + c · step] for r, c &lt; 8: eight loads of eight
    /// consecutive source elements (one source column each), transposed with unpacks, shuffles and
    /// lane swaps, stored as eight rows.
    /// </summary>
    private static void Transpose8x8(FloatBuffer source, int from, int step, Span<float> target, int column, int width)
    {
        ref var s = ref source[from];
        var v0 = Vector256.LoadUnsafe(ref s);
        var v1 = Vector256.LoadUnsafe(ref s, (nuint)step);
        var v2 = Vector256.LoadUnsafe(ref s, (nuint)(2 * step));
        var v3 = Vector256.LoadUnsafe(ref s, (nuint)(3 * step));
        var v4 = Vector256.LoadUnsafe(ref s, (nuint)(4 * step));
        var v5 = Vector256.LoadUnsafe(ref s, (nuint)(5 * step));
        var v6 = Vector256.LoadUnsafe(ref s, (nuint)(6 * step));
        var v7 = Vector256.LoadUnsafe(ref s, (nuint)(7 * step));

        // Pairs of columns interleaved, then quads, then the 128-bit halves swapped into place.
        var (t0, t1) = (Avx.UnpackLow(v0, v1), Avx.UnpackHigh(v0, v1));
        var (t2, t3) = (Avx.UnpackLow(v2, v3), Avx.UnpackHigh(v2, v3));
        var (t4, t5) = (Avx.UnpackLow(v4, v5), Avx.UnpackHigh(v4, v5));
        var (t6, t7) = (Avx.UnpackLow(v6, v7), Avx.UnpackHigh(v6, v7));
        var (q0, q1) = (Avx.Shuffle(t0, t2, 0b01_00_01_00), Avx.Shuffle(t0, t2, 0b11_10_11_10));
        var (q2, q3) = (Avx.Shuffle(t1, t3, 0b01_00_01_00), Avx.Shuffle(t1, t3, 0b11_10_11_10));
        var (q4, q5) = (Avx.Shuffle(t4, t6, 0b01_00_01_00), Avx.Shuffle(t4, t6, 0b11_10_11_10));
        var (q6, q7) = (Avx.Shuffle(t5, t7, 0b01_00_01_00), Avx.Shuffle(t5, t7, 0b11_10_11_10));

        ref var t = ref target[column];
        Avx.Permute2x128(q0, q4, 0x20).StoreUnsafe(ref t);
        Avx.Permute2x128(q1, q5, 0x20).StoreUnsafe(ref t, (nuint)width);
        Avx.Permute2x128(q2, q6, 0x20).StoreUnsafe(ref t, (nuint)(2 * width));
        Avx.Permute2x128(q3, q7, 0x20).StoreUnsafe(ref t, (nuint)(3 * width));
        Avx.Permute2x128(q0, q4, 0x31).StoreUnsafe(ref t, (nuint)(4 * width));
        Avx.Permute2x128(q1, q5, 0x31).StoreUnsafe(ref t, (nuint)(5 * width));
        Avx.Permute2x128(q2, q6, 0x31).StoreUnsafe(ref t, (nuint)(6 * width));
        Avx.Permute2x128(q3, q7, 0x31).StoreUnsafe(ref t, (nuint)(7 * width));
    }
}
