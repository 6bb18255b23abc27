using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cocoon.Agent.Inference.Cpu;

/// <summary>
/// Stride-1, undilated convolutions computed straight from a zero-padded copy of the image, without
/// unfolding it: each step keeps eight filters × two vectors of output pixels (16 with 256-bit vectors,
/// 32 with 512-bit ones, along the output rows) in sixteen vector accumulators, and for every input
/// channel and kernel tap loads two shifted input vectors and broadcasts eight weights into sixteen
/// fused multiply-adds. im2col plus the GEMM wrote and re-read nine copies of the image for a 3×3
/// kernel and multiplied along a short k (27 for the first layer of a CNN), reaching 60–100 GFLOP/s a
/// core on the reference CNN's shapes.
/// Takes filter counts in multiples of 8 and output widths in multiples of 8 (planes of a multiple of
/// 16 pixels); <see cref="Fits"/> says when. A 2 × 2, stride-2 max pool that load-time fusion folded
/// into the convolution (<see cref="GraphFusion.Pool"/>) is taken as the outputs are stored: the steps
/// then pair each row with the one below it, and only the maxima of each 2 × 2 window are written.
/// </summary>
internal static partial class DirectConv
{
    /// <summary>Filters one step computes.</summary>
    public const int FilterBlock = 8;

    /// <summary>The fewest output pixels a step computes: two 256-bit vectors of eight (512-bit steps take 32).</summary>
    public const int PixelBlock = 16;

    /// <summary>Deepest patch (channels × taps) the direct kernel takes where the GEMM runs on 512-bit vectors.</summary>
    public const int MaxPatchBesideWideGemm = 320;

    public static bool Fits(int filtersPerGroup, int oh, int ow, Window[] win, Activation activation) =>
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
    public static void Pad(ReadOnlySpan<float> image, int channels, int height, int width, Window[] win, Span<float> padded)
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
    public static int PaddedLength(int channels, int height, int width, Window[] win) =>
        channels * (height + win[0].PadBegin + win[0].PadEnd) * (width + win[1].PadBegin + win[1].PadEnd);

    /// <summary>
    /// Filter blocks [<paramref name="block0"/>, <paramref name="block1"/>) of one image (and group):
    /// every output pixel of each of their filters, from the padded image, starting from the bias and
    /// ending with the activation, and with the 2 × 2 max pool when <paramref name="pool"/> (the output
    /// planes are then (oh / 2) × (ow / 2)). With AVX-512 and rows in sixteens, steps of 32 pixels in
    /// 512-bit vectors: half the instructions per multiply-add, 84 → 102 and 95 → 109 GFLOP/s a core on
    /// the reference CNN's first two layers. (Eight-wide rows filling a 512-bit vector from two rows
    /// gained nothing on the third.)
    /// </summary>
    public static void Run(
        float[] padded, int channels, int ph, int pw, int kh, int kw, float[] packed, int packedAt,
        float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int oh, int ow, int block0, int block1, bool pool = false) =>
        Run(Choose(oh, ow), padded, channels, ph, pw, kh, kw, packed, packedAt, bias, biasAt, activation, output, outputAt, oh, ow, block0, block1, pool);

    /// <summary>The ways of tiling a block's filters and pixels, for the vector registers a machine has.</summary>
    internal enum Tiling
    {
        /// <summary>8 filters × 2 512-bit vectors (AVX-512, rows in sixteens).</summary>
        Wide512,

        /// <summary>8 filters × 2 256-bit vectors: 19 live vectors, which fit AVX-512's 32 registers.</summary>
        Eight256,

        /// <summary>Two halves of 4 filters × 2 256-bit vectors: 11 live vectors, for AVX2's 16.</summary>
        Halves256,
    }

    /// <summary>The tiling this machine runs an output of <paramref name="oh"/> × <paramref name="ow"/> pixels with.</summary>
    internal static Tiling Choose(int oh, int ow) =>
        Vector512.IsHardwareAccelerated && ow % Lanes512.Count == 0 && oh * ow % (2 * Lanes512.Count) == 0 ? Tiling.Wide512
        : Avx512F.VL.IsSupported ? Tiling.Eight256
        : Tiling.Halves256;

    /// <summary>The kernel with a chosen <paramref name="tiling"/> (tests run each one the machine can).</summary>
    internal static void Run(
        Tiling tiling, float[] padded, int channels, int ph, int pw, int kh, int kw, float[] packed, int packedAt,
        float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int oh, int ow, int block0, int block1, bool pool = false)
    {
        var shape = new Shape(channels, ph, pw, kh, kw, oh, ow, pool);
        switch (tiling)
        {
            case Tiling.Wide512:
                Run<Lanes512>(padded, shape, packed, packedAt, bias, biasAt, activation, output, outputAt, block0, block1);
                break;
            case Tiling.Eight256:
                Run<Lanes256>(padded, shape, packed, packedAt, bias, biasAt, activation, output, outputAt, block0, block1);
                break;
            default:
                RunHalves(padded, shape, packed, packedAt, bias, biasAt, activation, output, outputAt, block0, block1);
                break;
        }
    }

    private static void Run<TLanes>(
        float[] padded, Shape s, float[] packed, int packedAt, float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int block0, int block1)
        where TLanes : struct, ILanes<TLanes>
    {
        var taps = s.Kh * s.Kw;
        var plane = s.Ph * s.Pw;
        var (channels, kh, kw, pw) = (s.Channels, s.Kh, (nuint)s.Kw, s.Pw);
        var width = TLanes.Count;
        var (steps, planeOut) = (s.Steps(width), s.OutputPlane);
        var relu = activation == Activation.Relu;
        ref var input = ref MemoryMarshal.GetArrayDataReference(padded);
        ref var y = ref MemoryMarshal.GetArrayDataReference(output);
        for (var block = block0; block < block1; block++)
        {
            ref var w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(packed), packedAt + (block * s.Channels * taps * FilterBlock));
            var f0 = block * FilterBlock;
            var cursor = new StepCursor(s, width);
            for (var step = 0; step < steps; step++)
            {
                var (a, b, at) = (cursor.A, cursor.B, cursor.Out);
                cursor.Next();
                TLanes c0, c1, c2, c3, c4, c5, c6, c7, d0, d1, d2, d3, d4, d5, d6, d7;
                if (bias is null)
                {
                    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = TLanes.Broadcast(0f);
                }
                else
                {
                    var fb = biasAt + f0;
                    (c0, c1, c2, c3) = (TLanes.Broadcast(bias[fb]), TLanes.Broadcast(bias[fb + 1]), TLanes.Broadcast(bias[fb + 2]), TLanes.Broadcast(bias[fb + 3]));
                    (c4, c5, c6, c7) = (TLanes.Broadcast(bias[fb + 4]), TLanes.Broadcast(bias[fb + 5]), TLanes.Broadcast(bias[fb + 6]), TLanes.Broadcast(bias[fb + 7]));
                    (d0, d1, d2, d3, d4, d5, d6, d7) = (c0, c1, c2, c3, c4, c5, c6, c7);
                }

                ref var wt = ref w;
                ref var channel = ref Unsafe.Add(ref input, a);
                var below = (nuint)(b - a);
                for (var c = 0; c < channels; c++, channel = ref Unsafe.Add(ref channel, plane))
                {
                    ref var row = ref channel;
                    for (var ky = 0; ky < kh; ky++, row = ref Unsafe.Add(ref row, pw))
                    {
                        for (nuint kx = 0; kx < kw; kx++)
                        {
                            var va = TLanes.Load(ref row, kx);
                            var vb = TLanes.Load(ref row, kx + below);
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

                ref var out0 = ref Unsafe.Add(ref y, outputAt + (f0 * planeOut) + at);
                Store(c0, d0, s.Pool, relu, ref out0);
                Store(c1, d1, s.Pool, relu, ref Unsafe.Add(ref out0, planeOut));
                Store(c2, d2, s.Pool, relu, ref Unsafe.Add(ref out0, 2 * planeOut));
                Store(c3, d3, s.Pool, relu, ref Unsafe.Add(ref out0, 3 * planeOut));
                Store(c4, d4, s.Pool, relu, ref Unsafe.Add(ref out0, 4 * planeOut));
                Store(c5, d5, s.Pool, relu, ref Unsafe.Add(ref out0, 5 * planeOut));
                Store(c6, d6, s.Pool, relu, ref Unsafe.Add(ref out0, 6 * planeOut));
                Store(c7, d7, s.Pool, relu, ref Unsafe.Add(ref out0, 7 * planeOut));
            }
        }
    }

    /// <summary>
    /// The 256-bit kernel for AVX2's 16 vector registers: each filter block in two halves of four
    /// filters × two vectors of pixels (eight accumulators, two inputs and a broadcast: 11 registers).
    /// The 8 × 2 step needs 19 live vectors, and on AVX2 the JIT kept three accumulators on the stack,
    /// read and written at every tap (53–58 GFLOP/s a core on a Zen 3, 70–85 in halves).
    /// </summary>
    private static void RunHalves(
        float[] padded, Shape s, float[] packed, int packedAt, float[]? bias, int biasAt, Activation activation, float[] output, int outputAt, int block0, int block1)
    {
        const int Half = FilterBlock / 2;
        var taps = s.Kh * s.Kw;
        var (channels, kh, kw, pw) = (s.Channels, s.Kh, (nuint)s.Kw, s.Pw);
        var plane = s.Ph * s.Pw;
        var width = Vector256<float>.Count;
        var (steps, planeOut) = (s.Steps(width), s.OutputPlane);
        var relu = activation == Activation.Relu;
        ref var input = ref MemoryMarshal.GetArrayDataReference(padded);
        ref var y = ref MemoryMarshal.GetArrayDataReference(output);
        for (var block = block0; block < block1; block++)
        {
            for (var half = 0; half < 2; half++)
            {
                ref var w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(packed), packedAt + (block * s.Channels * taps * FilterBlock) + (half * Half));
                var f0 = (block * FilterBlock) + (half * Half);
                var cursor = new StepCursor(s, width);
                for (var step = 0; step < steps; step++)
                {
                    var (a, b, at) = (cursor.A, cursor.B, cursor.Out);
                    cursor.Next();
                    Lanes256 c0, c1, c2, c3;
                    if (bias is null)
                    {
                        c0 = c1 = c2 = c3 = Lanes256.Broadcast(0f);
                    }
                    else
                    {
                        var fb = biasAt + f0;
                        (c0, c1, c2, c3) = (Lanes256.Broadcast(bias[fb]), Lanes256.Broadcast(bias[fb + 1]), Lanes256.Broadcast(bias[fb + 2]), Lanes256.Broadcast(bias[fb + 3]));
                    }

                    var (d0, d1, d2, d3) = (c0, c1, c2, c3);
                    ref var wt = ref w;

                    // Row by row of taps, by references: the first vector's inputs from the row, the
                    // second's from `below` further on (kept off the stack and out of index arithmetic,
                    // which had cost as many instructions as the multiply-adds on AVX2).
                    ref var channel = ref Unsafe.Add(ref input, a);
                    var below = (nuint)(b - a);
                    for (var c = 0; c < channels; c++, channel = ref Unsafe.Add(ref channel, plane))
                    {
                        ref var row = ref channel;
                        for (var ky = 0; ky < kh; ky++, row = ref Unsafe.Add(ref row, pw))
                        {
                            for (nuint kx = 0; kx < kw; kx++)
                            {
                                var va = Lanes256.Load(ref row, kx);
                                var vb = Lanes256.Load(ref row, kx + below);
                                var k = Lanes256.Broadcast(wt);
                                c0 = Lanes256.MultiplyAdd(k, va, c0);
                                d0 = Lanes256.MultiplyAdd(k, vb, d0);
                                k = Lanes256.Broadcast(Unsafe.Add(ref wt, 1));
                                c1 = Lanes256.MultiplyAdd(k, va, c1);
                                d1 = Lanes256.MultiplyAdd(k, vb, d1);
                                k = Lanes256.Broadcast(Unsafe.Add(ref wt, 2));
                                c2 = Lanes256.MultiplyAdd(k, va, c2);
                                d2 = Lanes256.MultiplyAdd(k, vb, d2);
                                k = Lanes256.Broadcast(Unsafe.Add(ref wt, 3));
                                c3 = Lanes256.MultiplyAdd(k, va, c3);
                                d3 = Lanes256.MultiplyAdd(k, vb, d3);
                                wt = ref Unsafe.Add(ref wt, FilterBlock);
                            }
                        }
                    }

                    ref var out0 = ref Unsafe.Add(ref y, outputAt + (f0 * planeOut) + at);
                    Store(c0, d0, s.Pool, relu, ref out0);
                    Store(c1, d1, s.Pool, relu, ref Unsafe.Add(ref out0, planeOut));
                    Store(c2, d2, s.Pool, relu, ref Unsafe.Add(ref out0, 2 * planeOut));
                    Store(c3, d3, s.Pool, relu, ref Unsafe.Add(ref out0, 3 * planeOut));
                }
            }
        }
    }

    /// <summary>A step's two vectors of one filter: stored as they are, or as the maxima of their 2 × 2 windows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TLanes>(TLanes first, TLanes second, bool pool, bool relu, ref float at)
        where TLanes : struct, ILanes<TLanes>
    {
        if (pool)
        {
            TLanes.StorePooled(first, second, relu, ref at);
        }
        else
        {
            TLanes.Store(first, second, relu, ref at);
        }
    }

    /// <summary>
    /// A convolution's geometry for the kernels: padded planes, kernel, output, and whether a 2 × 2 max
    /// pool is taken as the outputs are stored.
    /// </summary>
    private readonly record struct Shape(int Channels, int Ph, int Pw, int Kh, int Kw, int Oh, int Ow, bool Pool)
    {
        /// <summary>Floats of one filter's output plane.</summary>
        public int OutputPlane => Pool ? Oh / 2 * (Ow / 2) : Oh * Ow;

        /// <summary>Steps of two vectors of <paramref name="width"/> pixels that cover the output.</summary>
        public int Steps(int width) => Pool ? Oh / 2 * (Ow / width) : Oh * Ow / (2 * width);
    }

    /// <summary>
    /// Walks a kernel's steps in order: where each step's two vectors start in a padded plane and where
    /// its output starts in an output plane (pixels p and p + width of the output, or with a pool the
    /// same columns of rows 2r and 2r + 1, whose maxima land in row r of the pooled plane), counted
    /// forward instead of divided out at every step (two divisions a step: 79 → 82 GFLOP/s a core on the
    /// reference CNN's 8-wide third layer on AVX2, no change on the others).
    /// </summary>
    private struct StepCursor(Shape s, int width)
    {
        private int _row;
        private int _x;

        /// <summary>Where the step's output starts in an output plane.</summary>
        public int Out { get; private set; }

        /// <summary>Where the step's first vector starts in a padded plane.</summary>
        public readonly int A => (_row * s.Pw) + _x;

        /// <summary>Where its second vector starts: the row below with a pool, else the next pixels, wrapping to the next row.</summary>
        public readonly int B => s.Pool ? A + s.Pw : _x + width < s.Ow ? A + width : ((_row + 1) * s.Pw) + _x + width - s.Ow;

        public void Next()
        {
            if (s.Pool)
            {
                (_x, Out) = (_x + width, Out + (width / 2));
                if (_x == s.Ow)
                {
                    (_x, _row) = (0, _row + 2);
                }

                return;
            }

            (_x, Out) = (_x + (2 * width), Out + (2 * width));
            while (_x >= s.Ow)
            {
                (_x, _row) = (_x - s.Ow, _row + 1);
            }
        }
    }
}
