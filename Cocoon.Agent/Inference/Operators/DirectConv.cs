using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Stride-1, undilated convolutions computed straight from a zero-padded copy of the image, without
/// unfolding it: each step keeps eight filters × sixteen output pixels (two runs of eight along the
/// output rows) in sixteen vector accumulators, and for every input channel and kernel tap loads two
/// shifted input vectors and broadcasts eight weights into sixteen fused multiply-adds. im2col plus the
/// GEMM wrote and re-read nine copies of the image for a 3×3 kernel and multiplied along a short k (27
/// for the first layer of a CNN), reaching 60–100 GFLOP/s a core on the reference CNN's shapes.
/// Takes filter counts in multiples of 8 and output widths in multiples of 8 (planes of a multiple of
/// 16 pixels); <see cref="Fits"/> says when.
/// </summary>
internal static class DirectConv
{
    /// <summary>Filters one step computes.</summary>
    public const int FilterBlock = 8;

    /// <summary>Output pixels one step computes: two vectors of eight.</summary>
    public const int PixelBlock = 16;

    private static readonly ConditionalWeakTable<float[], float[]> Packed = [];

    public static bool Fits(int filtersPerGroup, int oh, int ow, Spatial.Window[] win, Activation activation) =>
        Vector256.IsHardwareAccelerated
        && filtersPerGroup % FilterBlock == 0
        && ow % 8 == 0
        && oh * ow % PixelBlock == 0
        && win.All(w => w.Stride == 1 && w.Dilation == 1)
        && activation is Activation.None or Activation.Relu;

    /// <summary>
    /// The weights [F, C, kh, kw] as [F / 8][C][kh · kw][8]: a step's eight broadcasts for one channel
    /// and tap are adjacent. Packed once per weight array (model weights live as long as the model).
    /// </summary>
    public static float[] Pack(float[] weights, int filters, int channels, int taps)
    {
        lock (Packed)
        {
            if (Packed.TryGetValue(weights, out var packed))
            {
                return packed;
            }

            packed = new float[weights.Length];
            for (var f = 0; f < filters; f++)
            {
                for (var c = 0; c < channels; c++)
                {
                    for (var t = 0; t < taps; t++)
                    {
                        packed[((((f / FilterBlock * channels) + c) * taps) + t) * FilterBlock + (f % FilterBlock)] = weights[(((f * channels) + c) * taps) + t];
                    }
                }
            }

            Packed.Add(weights, packed);
            return packed;
        }
    }

    /// <summary>The image's <paramref name="channels"/> planes with the windows' padding around each, zeros in the padding.</summary>
    public static void Pad(ReadOnlySpan<float> image, int channels, int height, int width, Spatial.Window[] win, Span<float> padded)
    {
        var (ph, pw) = (height + win[0].PadBegin + win[0].PadEnd, width + win[1].PadBegin + win[1].PadEnd);
        padded[..(channels * ph * pw)].Clear();
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                image.Slice(((c * height) + y) * width, width).CopyTo(padded.Slice((((c * ph) + y + win[0].PadBegin) * pw) + win[1].PadBegin, width));
            }
        }
    }

    /// <summary>Floats <see cref="Pad"/> writes for one image.</summary>
    public static int PaddedLength(int channels, int height, int width, Spatial.Window[] win) =>
        channels * (height + win[0].PadBegin + win[0].PadEnd) * (width + win[1].PadBegin + win[1].PadEnd);

    /// <summary>
    /// Filter blocks [<paramref name="block0"/>, <paramref name="block1"/>) of one image (and group):
    /// every output pixel of each of their filters, from the padded image, starting from the bias and
    /// ending with the activation.
    /// </summary>
    public static void Run(
        float[] padded, int channels, int ph, int pw, int kh, int kw, float[] packed, int packedAt,
        float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int oh, int ow, int block0, int block1)
    {
        var taps = kh * kw;
        var plane = ph * pw;
        var pixels = oh * ow;
        ref var input = ref MemoryMarshal.GetArrayDataReference(padded);
        ref var y = ref MemoryMarshal.GetArrayDataReference(output);
        for (var block = block0; block < block1; block++)
        {
            ref var w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(packed), packedAt + (block * channels * taps * FilterBlock));
            var f0 = block * FilterBlock;
            for (var p = 0; p < pixels; p += PixelBlock)
            {
                // Two runs of eight output pixels; with eight-wide rows they are two rows.
                var (rowA, xA) = Math.DivRem(p, ow);
                var (rowB, xB) = Math.DivRem(p + 8, ow);
                var (a, b) = ((rowA * pw) + xA, (rowB * pw) + xB);
                Vector256<float> c0, c1, c2, c3, c4, c5, c6, c7, d0, d1, d2, d3, d4, d5, d6, d7;
                if (bias is null)
                {
                    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = Vector256<float>.Zero;
                }
                else
                {
                    var at = biasAt + f0;
                    (c0, c1, c2, c3) = (Vector256.Create(bias[at]), Vector256.Create(bias[at + 1]), Vector256.Create(bias[at + 2]), Vector256.Create(bias[at + 3]));
                    (c4, c5, c6, c7) = (Vector256.Create(bias[at + 4]), Vector256.Create(bias[at + 5]), Vector256.Create(bias[at + 6]), Vector256.Create(bias[at + 7]));
                    (d0, d1, d2, d3, d4, d5, d6, d7) = (c0, c1, c2, c3, c4, c5, c6, c7);
                }

                ref var wt = ref w;
                for (var c = 0; c < channels; c++)
                {
                    var channelAt = c * plane;
                    for (var ky = 0; ky < kh; ky++)
                    {
                        var rowAt = channelAt + (ky * pw);
                        for (var kx = 0; kx < kw; kx++)
                        {
                            var va = Vector256.LoadUnsafe(ref input, (nuint)(rowAt + kx + a));
                            var vb = Vector256.LoadUnsafe(ref input, (nuint)(rowAt + kx + b));
                            var k = Vector256.Create(wt);
                            c0 = Vector256.FusedMultiplyAdd(k, va, c0);
                            d0 = Vector256.FusedMultiplyAdd(k, vb, d0);
                            k = Vector256.Create(Unsafe.Add(ref wt, 1));
                            c1 = Vector256.FusedMultiplyAdd(k, va, c1);
                            d1 = Vector256.FusedMultiplyAdd(k, vb, d1);
                            k = Vector256.Create(Unsafe.Add(ref wt, 2));
                            c2 = Vector256.FusedMultiplyAdd(k, va, c2);
                            d2 = Vector256.FusedMultiplyAdd(k, vb, d2);
                            k = Vector256.Create(Unsafe.Add(ref wt, 3));
                            c3 = Vector256.FusedMultiplyAdd(k, va, c3);
                            d3 = Vector256.FusedMultiplyAdd(k, vb, d3);
                            k = Vector256.Create(Unsafe.Add(ref wt, 4));
                            c4 = Vector256.FusedMultiplyAdd(k, va, c4);
                            d4 = Vector256.FusedMultiplyAdd(k, vb, d4);
                            k = Vector256.Create(Unsafe.Add(ref wt, 5));
                            c5 = Vector256.FusedMultiplyAdd(k, va, c5);
                            d5 = Vector256.FusedMultiplyAdd(k, vb, d5);
                            k = Vector256.Create(Unsafe.Add(ref wt, 6));
                            c6 = Vector256.FusedMultiplyAdd(k, va, c6);
                            d6 = Vector256.FusedMultiplyAdd(k, vb, d6);
                            k = Vector256.Create(Unsafe.Add(ref wt, 7));
                            c7 = Vector256.FusedMultiplyAdd(k, va, c7);
                            d7 = Vector256.FusedMultiplyAdd(k, vb, d7);
                            wt = ref Unsafe.Add(ref wt, FilterBlock);
                        }
                    }
                }

                var relu = activation == Activation.Relu;
                ref var out0 = ref Unsafe.Add(ref y, outputAt + (f0 * pixels) + p);
                Store(c0, d0, relu, ref out0);
                Store(c1, d1, relu, ref Unsafe.Add(ref out0, pixels));
                Store(c2, d2, relu, ref Unsafe.Add(ref out0, 2 * pixels));
                Store(c3, d3, relu, ref Unsafe.Add(ref out0, 3 * pixels));
                Store(c4, d4, relu, ref Unsafe.Add(ref out0, 4 * pixels));
                Store(c5, d5, relu, ref Unsafe.Add(ref out0, 5 * pixels));
                Store(c6, d6, relu, ref Unsafe.Add(ref out0, 6 * pixels));
                Store(c7, d7, relu, ref Unsafe.Add(ref out0, 7 * pixels));
            }
        }
    }

    /// <summary>Sixteen consecutive outputs of one filter (pixels p … p + 15), through Relu when asked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> first, Vector256<float> second, bool relu, ref float at)
    {
        if (relu)
        {
            (first, second) = (Vector256.Max(first, Vector256<float>.Zero), Vector256.Max(second, Vector256<float>.Zero));
        }

        first.StoreUnsafe(ref at);
        second.StoreUnsafe(ref at, 8);
    }
}
