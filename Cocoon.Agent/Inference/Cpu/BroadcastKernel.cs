using System.Numerics.Tensors;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Memory;
using Cocoon.Agent.Inference.Operators;

namespace Cocoon.Agent.Inference.Cpu;

/// <summary>
/// Broadcast float arithmetic in runs: the output's dimensions are merged wherever both operands step
/// through them alike, so what is left is an outer walk over rows and an innermost run along which each
/// operand is either contiguous or one repeated value. A per-channel scale over an image ([N, C, H, W] ×
/// [C, 1, 1]) is N·C runs of H·W elements times one value; a bias over rows is rows of the bias; equal
/// shapes are one run. Each run is one vectorised TensorPrimitives call (Add, Sub, Mul, Div, Min, Max, Pow
/// by a scalar; NaN propagates through Min and Max, as in ONNX Runtime) or a tight loop (the other operators), with
/// no index arithmetic per element; rows are split across cores.
/// </summary>
internal static class BroadcastKernel
{
    /// <summary>The walk: merged dimensions (outermost first) and each operand's stride along them (0 where it repeats).</summary>
    private sealed record Walk(int[] Dims, int[] AStrides, int[] BStrides)
    {
        public int Run => Dims[^1];

        public int Rows => (int)Tensor.ElementCount(Dims.AsSpan(0, Dims.Length - 1));
    }

    private static Walk Plan(int[] aShape, int[] bShape, int[] shape)
    {
        var (sa, sb) = (Broadcasting.Strides(aShape, shape), Broadcasting.Strides(bShape, shape));
        var dims = new List<int>();
        var (aStrides, bStrides) = (new List<int>(), new List<int>());
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] == 1)
            {
                continue;
            }

            // Merge into the dimension inside when both operands step over it as over one longer dimension.
            if (dims.Count > 0 && sa[d] == aStrides[^1] * dims[^1] && sb[d] == bStrides[^1] * dims[^1])
            {
                dims[^1] *= shape[d];
                continue;
            }

            dims.Add(shape[d]);
            aStrides.Add(sa[d]);
            bStrides.Add(sb[d]);
        }

        if (dims.Count == 0)
        {
            return new Walk([1], [0], [0]);
        }

        dims.Reverse();
        aStrides.Reverse();
        bStrides.Reverse();
        return new Walk([.. dims], [.. aStrides], [.. bStrides]);
    }

    /// <summary>
    /// y = a ∘ b broadcast to <paramref name="shape"/>; <paramref name="op"/> must be the scalar form of
    /// <paramref name="code"/> (Add, Sub, Mul, Div, Min and Max run as TensorPrimitives' and never call it).
    /// </summary>
    public static void Apply(BinaryOp code, FloatBuffer a, int[] aShape, FloatBuffer b, int[] bShape, int[] shape, FloatBuffer y, Func<float, float, float> op)
    {
        var walk = Plan(aShape, bShape, shape);
        var (run, rows) = (walk.Run, walk.Rows);
        if (y.Length == 0)
        {
            return;
        }

        if (rows == 1)
        {
            // One run (equal shapes, or one operand a single value): split it across cores.
            Chunks.For(run, 1, (start, count) => Row(
                code, op, a.Span, walk.AStrides[0] * start, walk.AStrides[0], b.Span, walk.BStrides[0] * start, walk.BStrides[0], y.Span.Slice(start, count)));
            return;
        }

        Chunks.For(rows * run, run, (start, count) =>
        {
            var outer = walk.Dims.Length - 1;
            var index = new int[outer];
            var (aAt, bAt) = (0, 0);
            var row = start / run;
            for (int d = outer - 1, rest = row; d >= 0; d--)
            {
                index[d] = rest % walk.Dims[d];
                rest /= walk.Dims[d];
                aAt += index[d] * walk.AStrides[d];
                bAt += index[d] * walk.BStrides[d];
            }

            for (var r = 0; r < count / run; r++)
            {
                var target = y.Span.Slice((row + r) * run, run);
                Row(code, op, a.Span, aAt, walk.AStrides[^1], b.Span, bAt, walk.BStrides[^1], target);

                // Next row: the odometer over the outer dimensions, moving each operand's offset.
                for (var d = outer - 1; d >= 0; d--)
                {
                    aAt += walk.AStrides[d];
                    bAt += walk.BStrides[d];
                    if (++index[d] < walk.Dims[d])
                    {
                        break;
                    }

                    aAt -= walk.AStrides[d] * walk.Dims[d];
                    bAt -= walk.BStrides[d] * walk.Dims[d];
                    index[d] = 0;
                }
            }
        });
    }

    /// <summary>One run: each operand contiguous (stride 1) or one value (stride 0).</summary>
    private static void Row(BinaryOp code, Func<float, float, float> op, ReadOnlySpan<float> a, int aAt, int aStride, ReadOnlySpan<float> b, int bAt, int bStride, Span<float> y)
    {
        var n = y.Length;
        switch (aStride, bStride)
        {
            case (1, 1):
                {
                    var x = a.Slice(aAt, n);
                    var w = b.Slice(bAt, n);
                    switch (code)
                    {
                        case BinaryOp.Add: TensorPrimitives.Add(x, w, y); return;
                        case BinaryOp.Sub: TensorPrimitives.Subtract(x, w, y); return;
                        case BinaryOp.Mul: TensorPrimitives.Multiply(x, w, y); return;
                        case BinaryOp.Div: TensorPrimitives.Divide(x, w, y); return;
                        case BinaryOp.Max: TensorPrimitives.Max(x, w, y); return;
                        case BinaryOp.Min: TensorPrimitives.Min(x, w, y); return;
                    }

                    for (var i = 0; i < n; i++)
                    {
                        y[i] = op(x[i], w[i]);
                    }

                    return;
                }

            case (1, 0):
                {
                    var x = a.Slice(aAt, n);
                    var s = b[bAt];
                    switch (code)
                    {
                        case BinaryOp.Add: TensorPrimitives.Add(x, s, y); return;
                        case BinaryOp.Sub: TensorPrimitives.Subtract(x, s, y); return;
                        case BinaryOp.Mul: TensorPrimitives.Multiply(x, s, y); return;
                        case BinaryOp.Div: TensorPrimitives.Divide(x, s, y); return;
                        case BinaryOp.Max: TensorPrimitives.Max(x, s, y); return;
                        case BinaryOp.Min: TensorPrimitives.Min(x, s, y); return;

                        // x² (variances, power spectra) is exactly x · x, which IEEE's correctly rounded pow gives too.
                        case BinaryOp.Pow when s == 2f: TensorPrimitives.Multiply(x, x, y); return;
                        case BinaryOp.Pow: TensorPrimitives.Pow(x, s, y); return;
                    }

                    for (var i = 0; i < n; i++)
                    {
                        y[i] = op(x[i], s);
                    }

                    return;
                }

            case (0, 1):
                {
                    var s = a[aAt];
                    var w = b.Slice(bAt, n);
                    switch (code)
                    {
                        case BinaryOp.Add: TensorPrimitives.Add(w, s, y); return;
                        case BinaryOp.Sub: TensorPrimitives.Subtract(s, w, y); return;
                        case BinaryOp.Mul: TensorPrimitives.Multiply(w, s, y); return;
                        case BinaryOp.Div: TensorPrimitives.Divide(s, w, y); return;
                        case BinaryOp.Max: TensorPrimitives.Max(w, s, y); return;
                        case BinaryOp.Min: TensorPrimitives.Min(w, s, y); return;
                    }

                    for (var i = 0; i < n; i++)
                    {
                        y[i] = op(s, w[i]);
                    }

                    return;
                }

            default:
                y.Fill(op(a[aAt], b[bAt]));
                return;
        }
    }
}
