using ILGPU;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>Windowed kernels over NCHW images: Conv, ConvTranspose and pooling.</summary>
internal static partial class GpuKernels
{
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

    /// <summary>Output element i of an [N, Filters, OutHeight, OutWidth] tensor as (image, filter, row, column).</summary>
    private static (int N, int F, int Y, int X) Pixel(int i, ConvArguments s) =>
        (i / (s.OutWidth * s.OutHeight * s.Filters), i / (s.OutWidth * s.OutHeight) % s.Filters, i / s.OutWidth % s.OutHeight, i % s.OutWidth);
}
