using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Conv and pools over volumes (3-D windows: video, medical scans): the same window arithmetic as the
/// 2-D kernels (<see cref="Windows"/>, <see cref="Reach"/>), an N-D unfold into the same matrix product for
/// Conv. They run on the CPU kernels; on a GPU run the node's values come to the host for them.
/// </summary>
internal static partial class Spatial
{
    private static Tensor[] ConvVolume(OpContext c)
    {
        var (x, w) = (c.Input(0), c.Input(1));
        var group = (int)c.GetInt("group", 1);
        var (n, channels) = (x.Shape[0], x.Shape[1]);
        var (filters, perGroup) = (w.Shape[0], w.Shape[1]);
        var input = x.Shape[2..];
        var kernel = w.Shape[2..];
        var win = Windows(c, input, kernel);
        var output = win.Select(v => v.Output).ToArray();
        var (pixels, taps, volume) = ((int)Tensor.ElementCount(output), (int)Tensor.ElementCount(kernel), (int)Tensor.ElementCount(input));
        int[] shape = [n, filters, .. output];
        var filtersPerGroup = filters / group;
        var patch = perGroup * taps;
        var y = Buffers.Overwritten(Tensor.CheckedCount(shape));
        var (xData, wData, bias) = (x.Values, w.Data, c.Optional(2)?.Data);
        var columns = Scratch.Rent(Tensor.CheckedCount([patch, pixels]));
        try
        {
            for (var task = 0; task < n * group; task++)
            {
                var (b, g) = Math.DivRem(task, group);
                Unfold(xData.AsSpan(((b * channels) + (g * perGroup)) * volume, perGroup * volume), perGroup, input, kernel, win, columns);
                var outputAt = ((b * filters) + (g * filtersPerGroup)) * pixels;
                GemmKernel.MultiplyColumns(wData, g * filtersPerGroup * patch, columns, 0, y.Array, y.Offset + outputAt, filtersPerGroup, patch, pixels, 0, pixels,
                    new Epilogue(RowBias: bias, RowBiasAt: g * filtersPerGroup, Activation: c.FusedActivation));
            }
        }
        finally
        {
            Scratch.Return(columns);
        }

        return [new Tensor(shape, y)];
    }

    /// <summary>Every receptive field as a column: rows (channel, kernel tap…), columns the output positions; taps in the padding read 0.</summary>
    private static void Unfold(ReadOnlySpan<float> image, int channels, int[] input, int[] kernel, Window[] win, Span<float> columns)
    {
        var rank = input.Length;
        var (taps, pixels, volume) = ((int)Tensor.ElementCount(kernel), (int)Tensor.ElementCount(win.Select(v => v.Output).ToArray()), (int)Tensor.ElementCount(input));
        Span<int> tap = stackalloc int[rank];
        Span<int> at = stackalloc int[rank];
        for (var k = 0; k < taps; k++)
        {
            Decompose(k, kernel, tap);
            for (var p = 0; p < pixels; p++)
            {
                var inside = true;
                var offset = 0;
                var rest = p;
                for (var d = rank - 1; d >= 0; d--)
                {
                    var o = rest % win[d].Output;
                    rest /= win[d].Output;
                    at[d] = (o * win[d].Stride) + (tap[d] * win[d].Dilation) - win[d].PadBegin;
                    inside &= at[d] >= 0 && at[d] < input[d];
                }

                if (inside)
                {
                    for (var d = 0; d < rank; d++)
                    {
                        offset = (offset * input[d]) + at[d];
                    }
                }

                for (var ch = 0; ch < channels; ch++)
                {
                    columns[(((ch * taps) + k) * pixels) + p] = inside ? image[(ch * volume) + offset] : 0f;
                }
            }
        }
    }

    private static Tensor PoolVolume(OpContext c, bool max)
    {
        var x = c.Input(0);
        var kernel = c.GetInts("kernel_shape")!.Select(k => (int)k).ToArray();
        var input = x.Shape[2..];
        var win = Windows(c, input, kernel, ceil: c.GetInt("ceil_mode", 0) == 1);
        var includePad = c.GetInt("count_include_pad", 0) == 1;
        var output = win.Select(v => v.Output).ToArray();
        var reach = win.Select((v, d) => Reach(v, input[d])).ToArray();
        var (planes, volume, pixels) = (x.Shape[0] * x.Shape[1], (int)Tensor.ElementCount(input), (int)Tensor.ElementCount(output));
        var y = Buffers.Floats(Tensor.CheckedCount([planes, pixels]));
        var data = x.Values;
        Workers.For(planes, p =>
        {
            var source = data.AsSpan(p * volume, volume);
            var target = y.AsSpan(p * pixels, pixels);
            Span<int> o = stackalloc int[kernel.Length];
            Span<int> tap = stackalloc int[kernel.Length];
            for (var q = 0; q < pixels; q++)
            {
                Decompose(q, output, o);
                var (count, padded) = (1, 1);
                for (var d = 0; d < kernel.Length; d++)
                {
                    count *= reach[d][o[d]].Last - reach[d][o[d]].First;
                    padded *= reach[d][o[d]].Padded;
                }

                var best = float.NegativeInfinity;
                var sum = 0f;
                for (var t = 0; t < count; t++)
                {
                    // The t-th tap inside the input, axis by axis from the last.
                    var (rest, offset) = (t, 0);
                    for (var d = kernel.Length - 1; d >= 0; d--)
                    {
                        var (first, last, _) = reach[d][o[d]];
                        tap[d] = first + (rest % (last - first));
                        rest /= last - first;
                    }

                    for (var d = 0; d < kernel.Length; d++)
                    {
                        offset = (offset * input[d]) + (o[d] * win[d].Stride) + (tap[d] * win[d].Dilation) - win[d].PadBegin;
                    }

                    var v = source[offset];
                    best = Math.Max(best, v);
                    sum += v;
                }

                target[q] = max ? best : sum / Math.Max(1, includePad ? padded : count);
            }
        });
        return new Tensor([x.Shape[0], x.Shape[1], .. output], y);
    }

    /// <summary>A flat index into a row-major box of <paramref name="sizes"/>, as per-axis indices.</summary>
    private static void Decompose(int index, int[] sizes, Span<int> into)
    {
        for (var d = sizes.Length - 1; d >= 0; d--)
        {
            into[d] = index % sizes[d];
            index /= sizes[d];
        }
    }
}
