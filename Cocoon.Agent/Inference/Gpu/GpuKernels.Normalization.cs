using ILGPU;
using ILGPU.Algorithms;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>Reductions, Softmax, LayerNorm and the per-channel affine map of BatchNormalization and InstanceNormalization.</summary>
internal static partial class GpuKernels
{
    /// <summary>Sum (0), mean (1) or max (2) over the middle axis of x seen as (outer, size, inner), <paramref name="empty"/> when size is 0; one thread per output.</summary>
    public static void Reduce(Index1D i, ArrayView<float> x, ArrayView<float> y, int size, int inner, int op, float empty)
    {
        var at = (i / inner * size * inner) + (i % inner);
        var sum = 0f;
        var best = float.NegativeInfinity;
        for (var k = 0; k < size; k++)
        {
            var v = x[at + (k * inner)];
            sum += v;
            best = v > best || float.IsNaN(v) ? v : best;
        }

        y[i] = size == 0 ? empty : op == 2 ? best : op == 1 ? sum / size : sum;
    }

    /// <summary>
    /// Softmax (or log-softmax) along one axis, one group of threads per row: x seen as (outer, size,
    /// inner), row r is (r / inner, ·, r % inner). The group's threads stride along the row and meet in
    /// shared memory (one float each, dynamic) for its maximum and its sum of exponentials.
    /// </summary>
    public static void Softmax(ArrayView<float> x, ArrayView<float> y, int size, int inner, int log)
    {
        var partial = SharedMemory.GetDynamic<float>();
        var row = Grid.IdxX;
        var at = (row / inner * size * inner) + (row % inner);
        var max = float.NegativeInfinity;
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            var v = x[at + (k * inner)];
            max = v > max ? v : max;
        }

        max = GroupReduce(partial, max, maximum: true);
        var sum = 0f;
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            sum += MathF.Exp(x[at + (k * inner)] - max);
        }

        sum = GroupReduce(partial, sum, maximum: false);
        var logSum = MathF.Log(sum);
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            var shifted = x[at + (k * inner)] - max;
            y[at + (k * inner)] = log != 0 ? shifted - logSum : MathF.Exp(shifted) / sum;
        }
    }

    /// <summary>
    /// The sum (or maximum) of every thread's <paramref name="value"/> in the group, returned to all of
    /// them: a tree over <paramref name="partial"/> (one float per thread; the group's width is a power of two).
    /// </summary>
    private static float GroupReduce(ArrayView<float> partial, float value, bool maximum)
    {
        var t = Group.IdxX;
        partial[t] = value;
        Group.Barrier();
        for (var half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                var other = partial[t + half];
                var mine = partial[t];
                partial[t] = maximum ? (other > mine ? other : mine) : mine + other;
            }

            Group.Barrier();
        }

        var result = partial[0];
        Group.Barrier();
        return result;
    }

    /// <summary>
    /// LayerNormalization over the last <paramref name="size"/> elements, one group of threads per row:
    /// the mean, then the squares about it (two passes, so nothing is lost to cancellation), each summed across the
    /// group in shared memory (one float per thread, dynamic).
    /// </summary>
    public static void LayerNorm(ArrayView<float> x, ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> y, int size, float epsilon)
    {
        var partial = SharedMemory.GetDynamic<float>();
        var at = Grid.IdxX * size;
        var sum = 0f;
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            sum += x[at + k];
        }

        var mean = GroupReduce(partial, sum, maximum: false) / size;
        var squares = 0f;
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            var d = x[at + k] - mean;
            squares += d * d;
        }

        var inverse = 1f / MathF.Sqrt((GroupReduce(partial, squares, maximum: false) / size) + epsilon);
        for (var k = Group.IdxX; k < size; k += Group.DimX)
        {
            y[at + k] = ((x[at + k] - mean) * inverse * scale[k]) + bias[k];
        }
    }

    /// <summary>LRN, one thread per element: the sum of squares over the neighbouring channels that exist, as the CPU operator sums them.</summary>
    public static void Lrn(Index1D i, ArrayView<float> x, ArrayView<float> y, int channels, int inner, int size, float alpha, float beta, float bias)
    {
        var c = i / inner % channels;
        var at = i - (c * inner);
        var below = (size - 1) / 2;
        var above = size - 1 - below;
        var sum = 0f;
        for (var k = c - below < 0 ? 0 : c - below; k <= (c + above > channels - 1 ? channels - 1 : c + above); k++)
        {
            var v = x[at + (k * inner)];
            sum += v * v;
        }

        y[i] = x[i] / MathF.Pow(bias + (alpha / size * sum), beta);
    }

    /// <summary>y = x · a[c] + b[c] where c is the channel of (…, channels, inner): BatchNormalization and InstanceNormalization.</summary>
    public static void ChannelAffine(Index1D i, ArrayView<float> x, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int channels, int inner)
    {
        var c = i / inner % channels;
        y[i] = (x[i] * a[c]) + b[c];
    }

    /// <summary>Per plane of <paramref name="size"/> values: a = scale/σ and b = bias − mean·a, so that ChannelAffine normalises it.</summary>
    public static void PlaneStatistics(Index1D plane, ArrayView<float> x, ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> a, ArrayView<float> b, int size, int channels, float epsilon)
    {
        var (mean, variance) = Moments(x, plane * size, size);
        var c = plane % channels;
        var factor = scale[c] / MathF.Sqrt(variance + epsilon);
        a[plane] = factor;
        b[plane] = bias[c] - (mean * factor);
    }

    /// <summary>Mean and (population) variance of x[at, at + size), in two passes for accuracy.</summary>
    private static (float Mean, float Variance) Moments(ArrayView<float> x, int at, int size)
    {
        var mean = 0f;
        for (var k = 0; k < size; k++)
        {
            mean += x[at + k];
        }

        mean /= size;
        var variance = 0f;
        for (var k = 0; k < size; k++)
        {
            var d = x[at + k] - mean;
            variance += d * d;
        }

        return (mean, variance / size);
    }
}
