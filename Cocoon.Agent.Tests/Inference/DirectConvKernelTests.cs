using System.Runtime.Intrinsics;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Operators;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// The direct convolution kernel called with each way of stepping through a block that this machine
/// can run, against a plain convolution in double precision: the operator tests reach only the step
/// the machine chooses (the 512-bit one on AVX-512, the halves on AVX2).
/// </summary>
public sealed class DirectConvKernelTests
{
    public static TheoryData<string> Steps()
    {
        var steps = new TheoryData<string> { nameof(DirectConv.Tiling.Eight256), nameof(DirectConv.Tiling.Halves256) };
        if (Vector512.IsHardwareAccelerated)
        {
            steps.Add(nameof(DirectConv.Tiling.Wide512));
        }

        return steps;
    }

    [Theory]
    [MemberData(nameof(Steps))]
    public void Each_tiling_computes_the_convolution_with_bias_relu_and_pool(string name)
    {
        var step = Enum.Parse<DirectConv.Tiling>(name);
        // Shapes the 512-bit tiling takes (rows of 16) and ones only the 256-bit tilings take (rows of 8),
        // 1×1, 3×3 and 5×3 kernels, one and several filter blocks, bias or none, Relu or none, with the
        // 2×2 max pool and without (an odd height, whose last row the pool drops).
        foreach (var (channels, filters, oh, ow, kh, kw, withBias, relu, pool) in new[]
        {
            (3, 16, 32, 32, 3, 3, true, true, false), (5, 8, 4, 16, 5, 3, false, false, false), (2, 24, 6, 8, 1, 1, true, false, false), (7, 8, 2, 8, 3, 3, false, true, false),
            (3, 16, 32, 32, 3, 3, true, true, true), (5, 8, 5, 16, 5, 3, false, false, true), (2, 24, 6, 8, 1, 1, true, false, true), (7, 16, 8, 8, 3, 3, false, true, true),
        })
        {
            if (step == DirectConv.Tiling.Wide512 && DirectConv.Choose(oh, ow) != DirectConv.Tiling.Wide512)
            {
                continue;
            }

            var random = new Random((channels * 100) + filters);
            var (ph, pw) = (oh + kh - 1, ow + kw - 1);
            var padded = ReferenceModels.Values(random, channels * ph * pw, 1);
            var weights = ReferenceModels.Values(random, filters * channels * kh * kw, 1);
            var bias = withBias ? ReferenceModels.Values(random, filters, 1) : null;
            var packed = DirectConv.Pack(weights, filters, channels, kh * kw);

            // Output written at an offset inside a larger array, whose other elements must stay NaN.
            var (outH, outW) = pool ? (oh / 2, ow / 2) : (oh, ow);
            var output = Enumerable.Repeat(float.NaN, (filters * outH * outW) + 40).ToArray();
            DirectConv.Run(step, padded, channels, ph, pw, kh, kw, packed, 0, bias, 0, relu ? Activation.Relu : Activation.None, output, 24, oh, ow, 0, filters / DirectConv.FilterBlock, pool);

            var expected = new float[filters * oh * ow];
            for (var f = 0; f < filters; f++)
            {
                for (var y = 0; y < oh; y++)
                {
                    for (var x = 0; x < ow; x++)
                    {
                        double sum = bias?[f] ?? 0;
                        for (var c = 0; c < channels; c++)
                        {
                            for (var ky = 0; ky < kh; ky++)
                            {
                                for (var kx = 0; kx < kw; kx++)
                                {
                                    sum += (double)padded[(((c * ph) + y + ky) * pw) + x + kx] * weights[(((((f * channels) + c) * kh) + ky) * kw) + kx];
                                }
                            }
                        }

                        expected[(((f * oh) + y) * ow) + x] = (float)(relu ? Math.Max(sum, 0) : sum);
                    }
                }
            }

            if (pool)
            {
                var pooled = new float[filters * outH * outW];
                for (var i = 0; i < pooled.Length; i++)
                {
                    var (f, at) = Math.DivRem(i, outH * outW);
                    var (y, x) = Math.DivRem(at, outW);
                    int Full(int dy, int dx) => (((f * oh) + (2 * y) + dy) * ow) + (2 * x) + dx;
                    pooled[i] = Math.Max(Math.Max(expected[Full(0, 0)], expected[Full(0, 1)]), Math.Max(expected[Full(1, 0)], expected[Full(1, 1)]));
                }

                expected = pooled;
            }

            OrtReference.AssertClose(expected, output[24..^16], $"{step} [{channels}, {oh}, {ow}] → {filters}, {kh}×{kw}, pool {pool}");
            Assert.All(output[..24].Concat(output[^16..]), v => Assert.True(float.IsNaN(v)));
        }
    }
}
