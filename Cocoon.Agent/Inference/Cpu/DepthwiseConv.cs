using System.Numerics.Tensors;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Cpu;

/// <summary>
/// Depthwise convolutions (one filter per channel: group = channels, one input channel per group), the
/// spatial half of MobileNet and ShuffleNet blocks. Through the GEMM each channel was a product of one
/// row with k = 9, nearly all overhead. Here each plane is copied once into a zero-padded buffer; at
/// stride 1 the output is computed on the padded width, where every kernel tap is one shifted span of
/// the buffer, so a tap is a single vectorised multiply-add over the whole plane (the few columns past
/// the output's width are computed and dropped); other strides gather their taps from the padded buffer.
/// Planes are split across cores.
/// </summary>
internal static class DepthwiseConv
{
    /// <summary>
    /// Whether the padded plane stays near the image's size (at most four times it, plus the output's):
    /// padding or dilation that would make it far larger goes through im2col, which never materialises it.
    /// </summary>
    public static bool Fits(int height, int width, Window[] win)
    {
        var padded = ((long)height + win[0].PadBegin + win[0].PadEnd) * ((long)width + win[1].PadBegin + win[1].PadEnd);
        return padded <= (4L * height * width) + ((long)win[0].Output * win[1].Output) + 4096;
    }

    /// <param name="x">The input, [N, C, H, W].</param>
    /// <param name="weights">[C, 1, kh, kw].</param>
    /// <param name="y">The output, [N, C, oh, ow], every element written.</param>
    public static void Run(FloatBuffer x, int images, int channels, int height, int width, float[] weights, float[]? bias, Window[] win, Activation activation, FloatBuffer y)
    {
        var (kh, kw) = (win[0].Kernel, win[1].Kernel);
        var (oh, ow) = (win[0].Output, win[1].Output);
        var (dy, dx) = (win[0].Dilation, win[1].Dilation);
        var (sy, sx) = (win[0].Stride, win[1].Stride);
        var plane = oh * ow;
        var (hp, wp) = (height + win[0].PadBegin + win[0].PadEnd, width + win[1].PadBegin + win[1].PadEnd);

        // The padded plane, with room for the last tap's span to run past its final row.
        var paddedLength = (hp * wp) + ((kw - 1) * dx);
        var unit = Math.Max(1, plane);
        Chunks.For(images * channels * plane, unit, (start, count) =>
        {
            var padded = Scratch.Rent(paddedLength);
            var wide = sx == 1 && sy == 1 ? Scratch.Rent(oh * wp) : [];
            try
            {
                padded.AsSpan(0, paddedLength).Clear();
                for (var p = start / unit; p < (start + count) / unit; p++)
                {
                    var ch = p % channels;
                    var input = x.Span.Slice(p * height * width, height * width);
                    for (var iy = 0; iy < height; iy++)
                    {
                        input.Slice(iy * width, width).CopyTo(padded.AsSpan(((iy + win[0].PadBegin) * wp) + win[1].PadBegin, width));
                    }

                    var output = y.Span.Slice(p * plane, plane);
                    var taps = weights.AsSpan(ch * kh * kw, kh * kw);
                    var start0 = bias?[ch] ?? 0f;
                    if (sx == 1 && sy == 1)
                    {
                        // Rows of the padded width: every tap one span of the padded plane.
                        var span = ((oh - 1) * wp) + ow;
                        var sum = wide.AsSpan(0, span);
                        sum.Fill(start0);
                        for (var ky = 0; ky < kh; ky++)
                        {
                            for (var kx = 0; kx < kw; kx++)
                            {
                                TensorPrimitives.MultiplyAdd(padded.AsSpan((ky * dy * wp) + (kx * dx), span), taps[(ky * kw) + kx], sum, sum);
                            }
                        }

                        for (var oy = 0; oy < oh; oy++)
                        {
                            sum.Slice(oy * wp, ow).CopyTo(output.Slice(oy * ow, ow));
                        }
                    }
                    else
                    {
                        for (var oy = 0; oy < oh; oy++)
                        {
                            for (var ox = 0; ox < ow; ox++)
                            {
                                var value = start0;
                                var at = (oy * sy * wp) + (ox * sx);
                                for (var ky = 0; ky < kh; ky++)
                                {
                                    for (var kx = 0; kx < kw; kx++)
                                    {
                                        value += taps[(ky * kw) + kx] * padded[at + (ky * dy * wp) + (kx * dx)];
                                    }
                                }

                                output[(oy * ow) + ox] = value;
                            }
                        }
                    }

                    switch (activation)
                    {
                        case Activation.Relu:
                            TensorPrimitives.Max(output, 0f, output);
                            break;
                        case Activation.Gelu:
                            VectorMath.Gelu(output, output);
                            break;
                    }
                }
            }
            finally
            {
                Scratch.Return(padded);
                Scratch.Return(wide);
            }
        });
    }
}
