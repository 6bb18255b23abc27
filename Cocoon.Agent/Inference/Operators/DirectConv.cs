using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Stride-1, undilated convolutions computed straight from a zero-padded copy of the image, without
/// unfolding it: each step keeps eight filters × two vectors of output pixels (16 with 256-bit vectors,
/// 32 with 512-bit ones, along the output rows) in sixteen vector accumulators, and for every input
/// channel and kernel tap loads two shifted input vectors and broadcasts eight weights into sixteen
/// fused multiply-adds. im2col plus the GEMM wrote and re-read nine copies of the image for a 3×3
/// kernel and multiplied along a short k (27 for the first layer of a CNN), reaching 60–100 GFLOP/s a
/// core on the reference CNN's shapes.
/// Takes filter counts in multiples of 8 and output widths in multiples of 8 (planes of a multiple of
/// 16 pixels); <see cref="Fits"/> says when.
/// </summary>
internal static class DirectConv
{
    /// <summary>Filters one step computes.</summary>
    public const int FilterBlock = 8;

    /// <summary>The fewest output pixels a step computes: two 256-bit vectors of eight (512-bit steps take 32).</summary>
    public const int PixelBlock = 16;

    public static bool Fits(int filtersPerGroup, int oh, int ow, Spatial.Window[] win, Activation activation) =>
        Vector256.IsHardwareAccelerated
        && filtersPerGroup % FilterBlock == 0
        && ow % 8 == 0
        && oh * ow % PixelBlock == 0
        && win.All(w => w.Stride == 1 && w.Dilation == 1)
        && activation is Activation.None or Activation.Relu;

    /// <summary>
    /// The weights [F, C, kh, kw] as [F / 8][C][kh · kw][8]: a step's eight broadcasts for one channel
    /// and tap are adjacent. (A model keeps its own weights packed, <see cref="PackedWeights"/>.)
    /// </summary>
    public static float[] Pack(float[] weights, int filters, int channels, int taps)
    {
        var packed = new float[weights.Length];
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

        return packed;
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
    /// ending with the activation. With AVX-512 and rows in sixteens, steps of 32 pixels in 512-bit
    /// vectors: half the instructions per multiply-add, 84 → 102 and 95 → 109 GFLOP/s a core on the
    /// reference CNN's first two layers. (Eight-wide rows filling a 512-bit vector from two rows gained
    /// nothing on the third.)
    /// </summary>
    public static void Run(
        float[] padded, int channels, int ph, int pw, int kh, int kw, float[] packed, int packedAt,
        float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int oh, int ow, int block0, int block1) =>
        Run(Choose(oh, ow), padded, channels, ph, pw, kh, kw, packed, packedAt, bias, biasAt, activation, output, outputAt, oh, ow, block0, block1);

    /// <summary>The ways of stepping through the pixels and filters of a block, for the vector registers a machine has.</summary>
    internal enum Step
    {
        /// <summary>8 filters × 2 512-bit vectors (AVX-512, rows in sixteens).</summary>
        Wide512,

        /// <summary>8 filters × 2 256-bit vectors: 19 live vectors, which fit AVX-512's 32 registers.</summary>
        Eight256,

        /// <summary>Two halves of 4 filters × 2 256-bit vectors: 11 live vectors, for AVX2's 16.</summary>
        Halves256,
    }

    /// <summary>The step this machine runs an output of <paramref name="oh"/> × <paramref name="ow"/> pixels with.</summary>
    internal static Step Choose(int oh, int ow) =>
        Vector512.IsHardwareAccelerated && ow % Lanes512.Count == 0 && oh * ow % (2 * Lanes512.Count) == 0 ? Step.Wide512
        : Avx512F.VL.IsSupported ? Step.Eight256
        : Step.Halves256;

    /// <summary><see cref="Run(float[], int, int, int, int, int, float[], int, float[], int, Activation, float[], int, int, int, int, int)"/> with a chosen <paramref name="step"/> (tests run each one the machine can).</summary>
    internal static void Run(
        Step step, float[] padded, int channels, int ph, int pw, int kh, int kw, float[] packed, int packedAt,
        float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int oh, int ow, int block0, int block1)
    {
        var shape = new Shape(channels, ph, pw, kh, kw, oh, ow);
        switch (step)
        {
            case Step.Wide512:
                Run<Lanes512>(padded, shape, packed, packedAt, bias, biasAt, activation, output, outputAt, block0, block1);
                break;
            case Step.Eight256:
                Run<Lanes256>(padded, shape, packed, packedAt, bias, biasAt, activation, output, outputAt, block0, block1);
                break;
            default:
                RunHalves(padded, shape, packed, packedAt, bias, biasAt, activation, output, outputAt, block0, block1);
                break;
        }
    }

    /// <summary>
    /// The 256-bit kernel for AVX2's 16 vector registers: each filter block in two halves of four
    /// filters × two vectors of pixels (eight accumulators, two inputs and a broadcast: 11 registers).
    /// The 8 × 2 step needs 19 live vectors, and on AVX2 the JIT kept three accumulators on the stack,
    /// read and written at every tap (53–58 GFLOP/s a core on a Zen 3 whose FMAs peak near 78).
    /// </summary>
    private static void RunHalves(
        float[] padded, Shape s, float[] packed, int packedAt, float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int block0, int block1)
    {
        const int Half = FilterBlock / 2;
        var taps = s.Kh * s.Kw;
        var plane = s.Ph * s.Pw;
        var pixels = s.Oh * s.Ow;
        var width = Vector256<float>.Count;
        var relu = activation == Activation.Relu;
        ref var input = ref MemoryMarshal.GetArrayDataReference(padded);
        ref var y = ref MemoryMarshal.GetArrayDataReference(output);
        for (var block = block0; block < block1; block++)
        {
            for (var half = 0; half < 2; half++)
            {
                ref var w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(packed), packedAt + (block * s.Channels * taps * FilterBlock) + (half * Half));
                var f0 = (block * FilterBlock) + (half * Half);
                for (var p = 0; p < pixels; p += 2 * width)
                {
                    var (rowA, xA) = Math.DivRem(p, s.Ow);
                    var (rowB, xB) = Math.DivRem(p + width, s.Ow);
                    var (a, b) = ((rowA * s.Pw) + xA, (rowB * s.Pw) + xB);
                    Vector256<float> c0, c1, c2, c3;
                    if (bias is null)
                    {
                        c0 = c1 = c2 = c3 = Vector256<float>.Zero;
                    }
                    else
                    {
                        var at = biasAt + f0;
                        (c0, c1, c2, c3) = (Vector256.Create(bias[at]), Vector256.Create(bias[at + 1]), Vector256.Create(bias[at + 2]), Vector256.Create(bias[at + 3]));
                    }

                    var (d0, d1, d2, d3) = (c0, c1, c2, c3);
                    ref var wt = ref w;
                    for (var c = 0; c < s.Channels; c++)
                    {
                        var channelAt = c * plane;
                        for (var ky = 0; ky < s.Kh; ky++)
                        {
                            var rowAt = channelAt + (ky * s.Pw);
                            for (var kx = 0; kx < s.Kw; kx++)
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
                                wt = ref Unsafe.Add(ref wt, FilterBlock);
                            }
                        }
                    }

                    ref var out0 = ref Unsafe.Add(ref y, outputAt + (f0 * pixels) + p);
                    Lanes256.Store(new Lanes256(c0), new Lanes256(d0), relu, ref out0);
                    Lanes256.Store(new Lanes256(c1), new Lanes256(d1), relu, ref Unsafe.Add(ref out0, pixels));
                    Lanes256.Store(new Lanes256(c2), new Lanes256(d2), relu, ref Unsafe.Add(ref out0, 2 * pixels));
                    Lanes256.Store(new Lanes256(c3), new Lanes256(d3), relu, ref Unsafe.Add(ref out0, 3 * pixels));
                }
            }
        }
    }

    private static void Run<TLanes>(
        float[] padded, Shape s, float[] packed, int packedAt, float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int block0, int block1)
        where TLanes : struct, ILanes<TLanes>
    {
        var taps = s.Kh * s.Kw;
        var plane = s.Ph * s.Pw;
        var pixels = s.Oh * s.Ow;
        var width = TLanes.Count;
        ref var input = ref MemoryMarshal.GetArrayDataReference(padded);
        ref var y = ref MemoryMarshal.GetArrayDataReference(output);
        for (var block = block0; block < block1; block++)
        {
            ref var w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(packed), packedAt + (block * s.Channels * taps * FilterBlock));
            var f0 = block * FilterBlock;
            for (var p = 0; p < pixels; p += 2 * width)
            {
                // Two vectors of output pixels: p … and p + width …, each starting at its own row and column.
                var (rowA, xA) = Math.DivRem(p, s.Ow);
                var (rowB, xB) = Math.DivRem(p + width, s.Ow);
                var (a, b) = ((rowA * s.Pw) + xA, (rowB * s.Pw) + xB);
                TLanes c0, c1, c2, c3, c4, c5, c6, c7, d0, d1, d2, d3, d4, d5, d6, d7;
                if (bias is null)
                {
                    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = TLanes.Broadcast(0f);
                }
                else
                {
                    var at = biasAt + f0;
                    (c0, c1, c2, c3) = (TLanes.Broadcast(bias[at]), TLanes.Broadcast(bias[at + 1]), TLanes.Broadcast(bias[at + 2]), TLanes.Broadcast(bias[at + 3]));
                    (c4, c5, c6, c7) = (TLanes.Broadcast(bias[at + 4]), TLanes.Broadcast(bias[at + 5]), TLanes.Broadcast(bias[at + 6]), TLanes.Broadcast(bias[at + 7]));
                    (d0, d1, d2, d3, d4, d5, d6, d7) = (c0, c1, c2, c3, c4, c5, c6, c7);
                }

                ref var wt = ref w;
                for (var c = 0; c < s.Channels; c++)
                {
                    var channelAt = c * plane;
                    for (var ky = 0; ky < s.Kh; ky++)
                    {
                        var rowAt = channelAt + (ky * s.Pw);
                        for (var kx = 0; kx < s.Kw; kx++)
                        {
                            var va = TLanes.Load(ref input, rowAt + kx + a);
                            var vb = TLanes.Load(ref input, rowAt + kx + b);
                            var k = TLanes.Broadcast(wt);
                            c0 = TLanes.MultiplyAdd(k, va, c0);
                            d0 = TLanes.MultiplyAdd(k, vb, d0);
                            k = TLanes.Broadcast(Unsafe.Add(ref wt, 1));
                            c1 = TLanes.MultiplyAdd(k, va, c1);
                            d1 = TLanes.MultiplyAdd(k, vb, d1);
                            k = TLanes.Broadcast(Unsafe.Add(ref wt, 2));
                            c2 = TLanes.MultiplyAdd(k, va, c2);
                            d2 = TLanes.MultiplyAdd(k, vb, d2);
                            k = TLanes.Broadcast(Unsafe.Add(ref wt, 3));
                            c3 = TLanes.MultiplyAdd(k, va, c3);
                            d3 = TLanes.MultiplyAdd(k, vb, d3);
                            k = TLanes.Broadcast(Unsafe.Add(ref wt, 4));
                            c4 = TLanes.MultiplyAdd(k, va, c4);
                            d4 = TLanes.MultiplyAdd(k, vb, d4);
                            k = TLanes.Broadcast(Unsafe.Add(ref wt, 5));
                            c5 = TLanes.MultiplyAdd(k, va, c5);
                            d5 = TLanes.MultiplyAdd(k, vb, d5);
                            k = TLanes.Broadcast(Unsafe.Add(ref wt, 6));
                            c6 = TLanes.MultiplyAdd(k, va, c6);
                            d6 = TLanes.MultiplyAdd(k, vb, d6);
                            k = TLanes.Broadcast(Unsafe.Add(ref wt, 7));
                            c7 = TLanes.MultiplyAdd(k, va, c7);
                            d7 = TLanes.MultiplyAdd(k, vb, d7);
                            wt = ref Unsafe.Add(ref wt, FilterBlock);
                        }
                    }
                }

                var relu = activation == Activation.Relu;
                ref var out0 = ref Unsafe.Add(ref y, outputAt + (f0 * pixels) + p);
                TLanes.Store(c0, d0, relu, ref out0);
                TLanes.Store(c1, d1, relu, ref Unsafe.Add(ref out0, pixels));
                TLanes.Store(c2, d2, relu, ref Unsafe.Add(ref out0, 2 * pixels));
                TLanes.Store(c3, d3, relu, ref Unsafe.Add(ref out0, 3 * pixels));
                TLanes.Store(c4, d4, relu, ref Unsafe.Add(ref out0, 4 * pixels));
                TLanes.Store(c5, d5, relu, ref Unsafe.Add(ref out0, 5 * pixels));
                TLanes.Store(c6, d6, relu, ref Unsafe.Add(ref out0, 6 * pixels));
                TLanes.Store(c7, d7, relu, ref Unsafe.Add(ref out0, 7 * pixels));
            }
        }
    }

    /// <summary>A convolution's geometry for <see cref="Run{TLanes}"/>: padded planes, kernel, output.</summary>
    private readonly record struct Shape(int Channels, int Ph, int Pw, int Kh, int Kw, int Oh, int Ow);

    /// <summary>The vector operations <see cref="Run{TLanes}"/> needs, for 256- and 512-bit vectors.</summary>
    private interface ILanes<TSelf>
        where TSelf : struct, ILanes<TSelf>
    {
        /// <summary>Floats in one vector.</summary>
        static abstract int Count { get; }

        static abstract TSelf Broadcast(float value);

        static abstract TSelf Load(ref float input, int at);

        static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

        /// <summary>Two vectors' outputs, one after the other, through Relu when asked.</summary>
        static abstract void Store(TSelf first, TSelf second, bool relu, ref float at);
    }

    private readonly struct Lanes256(Vector256<float> v) : ILanes<Lanes256>
    {
        private readonly Vector256<float> _v = v;

        public static int Count => Vector256<float>.Count;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes256 Broadcast(float value) => new(Vector256.Create(value));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes256 Load(ref float input, int at) => new(Vector256.LoadUnsafe(ref input, (nuint)at));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes256 MultiplyAdd(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Lanes256 first, Lanes256 second, bool relu, ref float at)
        {
            var (x, y) = relu ? (Vector256.Max(first._v, Vector256<float>.Zero), Vector256.Max(second._v, Vector256<float>.Zero)) : (first._v, second._v);
            x.StoreUnsafe(ref at);
            y.StoreUnsafe(ref at, (nuint)Count);
        }
    }

    private readonly struct Lanes512(Vector512<float> v) : ILanes<Lanes512>
    {
        private readonly Vector512<float> _v = v;

        public static int Count => Vector512<float>.Count;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes512 Broadcast(float value) => new(Vector512.Create(value));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes512 Load(ref float input, int at) => new(Vector512.LoadUnsafe(ref input, (nuint)at));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes512 MultiplyAdd(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Lanes512 first, Lanes512 second, bool relu, ref float at)
        {
            var (x, y) = relu ? (Vector512.Max(first._v, Vector512<float>.Zero), Vector512.Max(second._v, Vector512<float>.Zero)) : (first._v, second._v);
            x.StoreUnsafe(ref at);
            y.StoreUnsafe(ref at, (nuint)Count);
        }
    }
}
