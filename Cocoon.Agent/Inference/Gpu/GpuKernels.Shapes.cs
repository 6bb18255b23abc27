using ILGPU;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>Data-movement kernels: strided copies (Transpose, Slice, Split, Expand, Tile, broadcasting), Concat, Gather and Pad.</summary>
internal static partial class GpuKernels
{
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
