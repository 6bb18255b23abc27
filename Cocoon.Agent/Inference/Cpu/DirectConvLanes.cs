using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cocoon.Agent.Inference.Cpu;

/// <summary>The vector operations the direct convolution's kernels are written in, for 256- and 512-bit vectors.</summary>
internal static partial class DirectConv
{
    private interface ILanes<TSelf>
        where TSelf : struct, ILanes<TSelf>
    {
        /// <summary>Floats in one vector.</summary>
        static abstract int Count { get; }

        static abstract TSelf Broadcast(float value);

        static abstract TSelf Load(ref float input, nuint at);

        static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

        /// <summary>Two vectors' outputs, one after the other, through Relu when asked.</summary>
        static abstract void Store(TSelf first, TSelf second, bool relu, ref float at);

        /// <summary>
        /// Two vectors holding the same columns of two rows, pooled: the maximum of each 2 × 2 window
        /// (the rows' maximum, then of neighbouring columns), Count / 2 outputs, through Relu when asked
        /// (the maximum of Relus is the Relu of the maximum).
        /// </summary>
        static abstract void StorePooled(TSelf top, TSelf bottom, bool relu, ref float at);
    }

    private readonly struct Lanes256(Vector256<float> v) : ILanes<Lanes256>
    {
        private readonly Vector256<float> _v = v;

        public static int Count => Vector256<float>.Count;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes256 Broadcast(float value) => new(Vector256.Create(value));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes256 Load(ref float input, nuint at) => new(Vector256.LoadUnsafe(ref input, at));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes256 MultiplyAdd(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Lanes256 first, Lanes256 second, bool relu, ref float at)
        {
            var (x, y) = relu ? (Vector256.Max(first._v, Vector256<float>.Zero), Vector256.Max(second._v, Vector256<float>.Zero)) : (first._v, second._v);
            x.StoreUnsafe(ref at);
            y.StoreUnsafe(ref at, (nuint)Count);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void StorePooled(Lanes256 top, Lanes256 bottom, bool relu, ref float at)
        {
            var rows = Avx.Max(top._v, bottom._v);
            if (relu)
            {
                rows = Avx.Max(rows, Vector256<float>.Zero);
            }

            // Each column's maximum with its neighbour (lanes swapped in pairs), then the even lanes.
            var pairs = Avx.Max(rows, Avx.Permute(rows, 0b10_11_00_01));
            Avx2.PermuteVar8x32(pairs, Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6)).GetLower().StoreUnsafe(ref at);
        }
    }

    private readonly struct Lanes512(Vector512<float> v) : ILanes<Lanes512>
    {
        private readonly Vector512<float> _v = v;

        public static int Count => Vector512<float>.Count;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes512 Broadcast(float value) => new(Vector512.Create(value));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes512 Load(ref float input, nuint at) => new(Vector512.LoadUnsafe(ref input, at));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes512 MultiplyAdd(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Lanes512 first, Lanes512 second, bool relu, ref float at)
        {
            var (x, y) = relu ? (Vector512.Max(first._v, Vector512<float>.Zero), Vector512.Max(second._v, Vector512<float>.Zero)) : (first._v, second._v);
            x.StoreUnsafe(ref at);
            y.StoreUnsafe(ref at, (nuint)Count);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void StorePooled(Lanes512 top, Lanes512 bottom, bool relu, ref float at)
        {
            var rows = Avx512F.Max(top._v, bottom._v);
            if (relu)
            {
                rows = Avx512F.Max(rows, Vector512<float>.Zero);
            }

            var pairs = Avx512F.Max(rows, Avx512F.Permute4x32(rows, 0b10_11_00_01));
            Avx512F.PermuteVar16x32(pairs, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14)).GetLower().StoreUnsafe(ref at);
        }
    }
}
