using System.Numerics.Tensors;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>Reductions over axes, ArgMax, and the softmax family.</summary>
[OperatorFamily]
internal static class Reductions
{
    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return Reduction("ReduceSum", 13, c => [Reduce(c, 13, 0, static s => TensorPrimitives.Sum(s), 0)]);
        yield return Reduction("ReduceMean", 18, c => [Reduce(c, 18, 1, static s => s.Length == 0 ? float.NaN : TensorPrimitives.Sum(s) / s.Length, 0)]);
        yield return Reduction("ReduceMax", 18, c => [Reduce(c, 18, 2, static s => TensorPrimitives.Max(s), float.NegativeInfinity)]);

        // CPU kernels only: a GPU run reads its values back for these (none of them is on a hot path).
        yield return Reduction("ReduceMin", 18, c => [Reduce(c, 18, -1, static s => TensorPrimitives.Min(s), float.PositiveInfinity)]);
        yield return Reduction("ReduceProd", 18, c => [Reduce(c, 18, -1, static s => TensorPrimitives.Product(s), 1)]);
        yield return Reduction("ReduceL1", 18, c => [Reduce(c, 18, -1, static s => TensorPrimitives.SumOfMagnitudes(s), 0)]);
        yield return Reduction("ReduceL2", 18, c => [Reduce(c, 18, -1, static s => MathF.Sqrt(TensorPrimitives.SumOfSquares(s)), 0)]);
        yield return Reduction("ReduceSumSquare", 18, c => [Reduce(c, 18, -1, static s => TensorPrimitives.SumOfSquares(s), 0)]);
        yield return Reduction("ReduceLogSum", 18, c => [Reduce(c, 18, -1, static s => MathF.Log(TensorPrimitives.Sum(s)), float.NegativeInfinity)]);
        yield return Reduction("ReduceLogSumExp", 18, c => [Reduce(c, 18, -1, LogSumExp, float.NegativeInfinity)]);
        yield return ArgDeclaration("ArgMax", largest: true);
        yield return ArgDeclaration("ArgMin", largest: false);
        yield return SoftmaxFamily("Softmax", c => [Softmax(c, log: false)]);
        yield return SoftmaxFamily("LogSoftmax", c => [Softmax(c, log: true)]);
    }

    private static OperatorSchema ArgDeclaration(string name, bool largest) => new()
    {
        Name = name,
        Attributes = [AttributeDeclaration.Int("axis"), AttributeDeclaration.Int("keepdims", 0, 1), AttributeDeclaration.Int("select_last_index", 0, 1)],
        InputTypes = [ElementTypes.Float],
        Shape = c =>
        {
            var x = c.In(0);
            if (x is null)
            {
                return [null];
            }

            var axis = OpContext.Axis(c.GetInt("axis", 0), x.Length);
            return [c.GetInt("keepdims", 1) == 1 ? [.. x.Select((d, i) => i == axis ? 1 : d)] : [.. x.Where((_, i) => i != axis)]];
        },
        Run = c => [Arg(c, largest)],
    };

    private static OperatorSchema SoftmaxFamily(string name, Func<OpContext, Tensor[]> run) => new()
    {
        Name = name,
        Attributes = [AttributeDeclaration.Int("axis")],
        InputTypes = [ElementTypes.Float],
        Shape = c =>
        {
            if (c.In(0) is { } x)
            {
                OpContext.Axis(c.GetInt("axis", c.Opset >= 13 ? -1 : 1), x.Length);
            }

            return [c.In(0)];
        },
        Run = run,
    };

    /// <param name="axesInputSince">The opset from which the axes are an input rather than an attribute.</param>
    private static OperatorSchema Reduction(string name, long axesInputSince, Func<OpContext, Tensor[]> run) => new()
    {
        Name = name,
        Attributes = [AttributeDeclaration.Ints("axes"), AttributeDeclaration.Int("keepdims", 0, 1), AttributeDeclaration.Int("noop_with_empty_axes", 0, 1)],
        Inputs = new(1, 2),
        InputTypes = [ElementTypes.Float, ElementTypes.Integer],
        Shape = c => [ReducedShape(c, axesInputSince)],
        Run = run,
    };

    private static long[]? ReducedShape(ShapeContext c, long axesInputSince)
    {
        var x = c.In(0);
        if (x is null)
        {
            return null;
        }

        var axes = c.AttributeOrInput("axes", 1, axesInputSince);
        if (axes is null && c.Opset >= axesInputSince && c.Present(1))
        {
            // Axes fed at run time: the rank is known only with keepdims.
            return c.GetInt("keepdims", 1) == 1 ? Dims.UnknownLike(x) : null;
        }

        if (axes is null or { Length: 0 } && c.GetInt("noop_with_empty_axes", 0) == 1)
        {
            return x;
        }

        var at = axes is null or { Length: 0 } ? [.. Enumerable.Range(0, x.Length)] : axes.Select(a => OpContext.Axis(a, x.Length)).ToHashSet();
        return c.GetInt("keepdims", 1) == 1 ? [.. x.Select((d, i) => at.Contains(i) ? 1 : d)] : [.. x.Where((_, i) => !at.Contains(i))];
    }

    /// <summary>Shape as (outer, axis, inner) around one axis.</summary>
    public static (int Outer, int Axis, int Inner) Around(int[] shape, int axis) =>
        ((int)Tensor.ElementCount(shape.AsSpan(0, axis)), shape[axis], (int)Tensor.ElementCount(shape.AsSpan(axis + 1)));

    /// <summary>A reduction of one group of values (never empty: empty groups take the operator's identity).</summary>
    private delegate float GroupReduction(ReadOnlySpan<float> values);

    private static float LogSumExp(ReadOnlySpan<float> values)
    {
        var max = TensorPrimitives.Max(values);
        if (float.IsInfinity(max))
        {
            return max;
        }

        var sum = 0f;
        foreach (var v in values)
        {
            sum += MathF.Exp(v - max);
        }

        return max + MathF.Log(sum);
    }

    /// <param name="kernelOp">The GPU reduction: 0 sum, 1 mean, 2 max; -1 none (a GPU run reduces on the host).</param>
    /// <param name="empty">The value of a group with no elements (the reduction's identity).</param>
    private static Tensor Reduce(OpContext c, long axesInputSince, int kernelOp, GroupReduction reduce, float empty)
    {
        var x = c.Input(0);

        var axesList = c.AttributeOrInput("axes", 1, axesInputSince);
        var keep = c.GetInt("keepdims", 1) == 1;
        if (axesList is { Length: 0 } || axesList is null)
        {
            if (c.GetInt("noop_with_empty_axes", 0) == 1)
            {
                return x;
            }

            axesList = [.. Enumerable.Range(0, x.Rank).Select(i => (long)i)];
        }

        var axes = axesList.Select(a => OpContext.Axis(a, x.Rank)).ToHashSet();
        var keptShape = x.Shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        int[] dropped = [.. x.Shape.Where((_, i) => !axes.Contains(i))];
        if (c.Gpu is { } gpu && kernelOp >= 0)
        {
            // One axis at a time: sums, means and maxima of equal-sized groups compose.
            var y = x;
            foreach (var axis in axes.OrderDescending())
            {
                var (_, size, inner) = Around(y.Shape, axis);
                y = gpu.Reduce(y, size, inner, kernelOp, [.. y.Shape.Select((d, i) => i == axis ? 1 : d)], empty);
            }

            return keep ? y : y.Reshaped(dropped);
        }

        var groupCount = (int)Tensor.ElementCount(keptShape);
        var values = new float[groupCount];
        var groupSize = groupCount == 0 ? 0 : x.Length / groupCount;
        if (groupSize == 0)
        {
            Array.Fill(values, empty);
            return new Tensor(keep ? keptShape : dropped, values);
        }

        var data = x.Values;
        var trailing = Enumerable.Range(0, x.Rank).Where(axes.Contains).SequenceEqual(Enumerable.Range(x.Rank - axes.Count, axes.Count));
        if (trailing)
        {
            // The reduced axes are the last ones: each group is a run of the input.
            for (var g = 0; g < groupCount; g++)
            {
                values[g] = reduce(data.Span.Slice(g * groupSize, groupSize));
            }
        }
        else
        {
            // Gather each group's values into a run of its own, in the input's order, then reduce the runs.
            var grouped = new float[x.Length];
            var filled = new int[groupCount];
            var index = new int[x.Rank];
            for (var i = 0; i < x.Length; i++)
            {
                var target = 0;
                for (var d = 0; d < x.Rank; d++)
                {
                    target = (target * keptShape[d]) + (axes.Contains(d) ? 0 : index[d]);
                }

                grouped[(target * groupSize) + filled[target]++] = data[i];
                for (var d = x.Rank - 1; d >= 0 && ++index[d] == x.Shape[d]; d--)
                {
                    index[d] = 0;
                }
            }

            for (var g = 0; g < groupCount; g++)
            {
                values[g] = reduce(grouped.AsSpan(g * groupSize, groupSize));
            }
        }

        return new Tensor(keep ? keptShape : dropped, values);
    }

    /// <summary>The index of the largest (ArgMax) or smallest (ArgMin) value along the axis; the first of equals unless select_last_index.</summary>
    private static Tensor Arg(OpContext c, bool largest)
    {
        var x = c.Input(0);
        var axis = OpContext.Axis(c.GetInt("axis", 0), x.Rank);
        var last = c.GetInt("select_last_index", 0) == 1;
        var (outer, size, inner) = Around(x.Shape, axis);
        var result = new long[outer * inner];
        var data = x.Values;
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                var best = 0;
                for (var k = 1; k < size; k++)
                {
                    var v = data[(((o * size) + k) * inner) + i];
                    var b = data[(((o * size) + best) * inner) + i];
                    if ((largest ? v > b : v < b) || (last && v == b))
                    {
                        best = k;
                    }
                }

                result[(o * inner) + i] = best;
            }
        }

        var shape = c.GetInt("keepdims", 1) == 1 ? x.Shape.Select((d, i) => i == axis ? 1 : d).ToArray() : [.. x.Shape.Where((_, i) => i != axis)];
        return Tensor.OfLongs(shape, result);
    }

    /// <summary>
    /// Opset 13 and later: over one axis (default -1). Before 13: the input is seen as 2-D, split at
    /// the axis (default 1), and each row of that view is normalised.
    /// </summary>
    private static Tensor Softmax(OpContext c, bool log)
    {
        var x = c.Input(0);
        var axis = OpContext.Axis(c.GetInt("axis", c.Opset >= 13 ? -1 : 1), x.Rank);
        var (outer, size, inner) = c.Opset >= 13
            ? Around(x.Shape, axis)
            : ((int)Tensor.ElementCount(x.Shape.AsSpan(0, axis)), (int)Tensor.ElementCount(x.Shape.AsSpan(axis)), 1);
        if (size == 0 || x.Length == 0)
        {
            return x;
        }

        if (c.Gpu is { } gpu)
        {
            return gpu.Softmax(x, size, inner, log);
        }

        var (data, y) = (x.Values, Buffers.Floats(x.Length));
        var block = size * inner;
        Chunks.For(x.Length, block, (start, count) =>
        {
            var row = new float[size];
            var output = new float[size];
            var exponentials = new float[size];
            for (var o = start / block; o < (start + count) / block; o++)
            {
                for (var i = 0; i < inner; i++)
                {
                    var contiguous = inner == 1;
                    var source = contiguous ? data.AsSpan(o * size, size) : row;
                    var target = contiguous ? y.AsSpan(o * size, size) : output;
                    if (!contiguous)
                    {
                        for (var k = 0; k < size; k++)
                        {
                            row[k] = data[(((o * size) + k) * inner) + i];
                        }
                    }

                    if (log)
                    {
                        var max = TensorPrimitives.Max<float>(source);
                        TensorPrimitives.Subtract(source, max, target);
                        TensorPrimitives.Exp(target, exponentials);
                        TensorPrimitives.Subtract(target, MathF.Log(TensorPrimitives.Sum<float>(exponentials)), target);
                    }
                    else
                    {
                        VectorMath.Softmax(source, target);
                    }

                    if (!contiguous)
                    {
                        for (var k = 0; k < size; k++)
                        {
                            y[(((o * size) + k) * inner) + i] = output[k];
                        }
                    }
                }
            }
        });

        return new Tensor(x.Shape, y);
    }
}
