using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>Operators that move data or compute shapes: every one builds an index map and gathers. Their declarations and shape rules are in <c>ShapeDeclarations.cs</c>.</summary>
[OperatorFamily]
internal static partial class Shapes
{
    /// <summary>The Shape operator on a tensor of <paramref name="shape"/>: its dimensions from start to end (opset 15's slice).</summary>
    public static Tensor ShapeOf(int[] shape, OpContext c)
    {
        var (start, end) = ShapeRange(c, shape.Length);
        return Tensor.OfLongs([end - start], [.. shape[start..end].Select(d => (long)d)]);
    }

    /// <summary>Which dimensions of a rank-<paramref name="rank"/> shape the Shape operator returns: [start, end), negatives from the end, clamped.</summary>
    public static (int Start, int End) ShapeRange(OpContext c, int rank)
    {
        var start = (int)Math.Clamp(c.GetInt("start", 0) < 0 ? c.GetInt("start", 0) + rank : c.GetInt("start", 0), 0, rank);
        var end = (int)Math.Clamp(c.Attribute("end") is null ? rank : c.GetInt("end", 0) < 0 ? c.GetInt("end", 0) + rank : c.GetInt("end", 0), start, rank);
        return (start, end);
    }

    /// <summary>
    /// Split's sizes along an axis of <paramref name="length"/>: the split input (attribute before
    /// opset 13), else equal parts with a smaller last one, num_outputs of them from opset 18 and one
    /// per output before. Null when neither is given and the length is unknown (negative).
    /// </summary>
    public static long[]? SplitSizes(OpContext c, long length)
    {
        var sizes = c.AttributeOrInput("split", 1, 13);
        if (sizes is not null || length < 0)
        {
            return sizes;
        }

        var parts = c.Opset >= 18 && c.Attribute("num_outputs") is { } n ? n.I : c.OutputCount;
        if (parts < 1)
        {
            throw new ModelException($"Split needs at least one part; got {parts}.");
        }

        var each = (length + parts - 1) / parts;
        return [.. Enumerable.Range(0, (int)parts).Select(i => Math.Max(0, Math.Min(each, length - (i * each))))];
    }

    public static int[] ToShape(long[] dims) =>
        dims.Any(d => d < 0 || d > int.MaxValue) ? throw new ModelException($"[{string.Join(", ", dims)}] is not a shape.") : [.. dims.Select(d => (int)d)];

    public static Tensor Transpose(OpContext? c, Tensor x, int[] perm)
    {
        var inputStrides = RowMajorStrides(x.Shape);
        return Walk(c, x, [.. perm.Select(p => x.Shape[p])], [.. perm.Select(p => inputStrides[p])], 0);
    }

    /// <summary>
    /// A new tensor of <paramref name="shape"/> whose element at index i is x's element at
    /// offset + Σ (i_d mod wrap_d) · strides_d: on the run's GPU when there is one, by strided block
    /// copies for float tensors on the CPU, by an index map for int64 and bool ones.
    /// </summary>
    public static Tensor Walk(OpContext? c, Tensor x, int[] shape, int[] strides, int offset, int[]? wrap = null)
    {
        if (c?.Gpu is { } gpu && x.Type == ElementType.Float32 && Gpu.GpuRun.Fits(shape))
        {
            return gpu.Copy(x, shape, strides, offset, wrap);
        }

        if (x.Type == ElementType.Float32)
        {
            // Every element is written: a reused buffer is not cleared first.
            var y = Buffers.Overwritten(Tensor.CheckedCount(shape));
            StridedCopy.Copy(x.Values, y, shape, strides, offset, wrap);
            return new Tensor(shape, y);
        }

        return x.Gather(shape, wrap is null
            ? Strided(shape, strides, offset)
            : Map(shape, index =>
            {
                var at = offset;
                for (var d = 0; d < index.Length; d++)
                {
                    at += index[d] % wrap[d] * strides[d];
                }

                return at;
            }));
    }

    public static int[] RowMajorStrides(int[] shape)
    {
        var strides = new int[shape.Length];
        for (int d = shape.Length - 1, stride = 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }

        return strides;
    }

    /// <summary>Source offsets for every index of <paramref name="shape"/>: <paramref name="start"/> plus index · strides, walked incrementally.</summary>
    public static int[] Strided(int[] shape, int[] strides, int start)
    {
        var count = Tensor.CheckedCount(shape);
        var offsets = new int[count];
        var index = new int[shape.Length];
        var at = start;
        for (var i = 0; i < count; i++)
        {
            offsets[i] = at;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                at += strides[d];
                if (++index[d] < shape[d])
                {
                    break;
                }

                at -= strides[d] * shape[d];
                index[d] = 0;
            }
        }

        return offsets;
    }

    /// <summary>Row-major offset of <paramref name="index"/> in <paramref name="shape"/>.</summary>
    public static int Offset(int[] shape, int[] index)
    {
        var offset = 0;
        for (var d = 0; d < shape.Length; d++)
        {
            offset = (offset * shape[d]) + index[d];
        }

        return offset;
    }

    /// <summary>Calls <paramref name="source"/> for every index of <paramref name="shape"/> in row-major order.</summary>
    public static int[] Map(int[] shape, Func<int[], int> source)
    {
        var count = Tensor.CheckedCount(shape);
        var result = new int[count];
        var index = new int[shape.Length];
        for (var i = 0; i < count; i++)
        {
            result[i] = source(index);
            for (var d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--)
            {
                index[d] = 0;
            }
        }

        return result;
    }

    private static Tensor[] Reshape(OpContext c)
    {
        var x = c.Input(0);
        var requested = c.Input(1).AsLongs();
        var allowZero = c.GetInt("allowzero", 0) == 1;
        var shape = new int[requested.Length];
        var infer = -1;
        for (var i = 0; i < requested.Length; i++)
        {
            switch (requested[i])
            {
                case 0 when !allowZero:
                    shape[i] = i < x.Rank ? x.Shape[i] : throw new ModelException($"shape entry {i} copies a dimension {x} does not have.");
                    break;
                case -1 when infer < 0:
                    infer = i;
                    break;
                case < 0:
                    throw new ModelException($"shape [{string.Join(", ", requested)}] is not a valid Reshape target.");
                default:
                    shape[i] = (int)requested[i];
                    break;
            }
        }

        if (infer >= 0)
        {
            var known = Tensor.ElementCount(shape.Where((_, i) => i != infer).ToArray());
            shape[infer] = known == 0 ? 0 : (int)(x.Length / known);
        }

        if (Tensor.ElementCount(shape) != x.Length)
        {
            throw new ModelException($"cannot reshape {x} to [{string.Join(", ", requested)}].");
        }

        return [x.Reshaped(shape)];
    }

    private static Tensor[] Concat(OpContext c)
    {
        var inputs = Enumerable.Range(0, c.InputCount).Select(c.Input).ToList();
        var first = inputs[0];
        var axis = OpContext.Axis(c.GetInt("axis", 0), first.Rank);
        foreach (var t in inputs)
        {
            if (t.Rank != first.Rank || t.Type != first.Type || Enumerable.Range(0, t.Rank).Any(d => d != axis && t.Shape[d] != first.Shape[d]))
            {
                throw new ModelException($"cannot concatenate {first} and {t} along axis {axis}.");
            }
        }

        var shape = (int[])first.Shape.Clone();
        shape[axis] = inputs.Sum(t => t.Shape[axis]);
        if (c.Gpu is { } gpu && first.Type == ElementType.Float32 && Gpu.GpuRun.Fits(shape))
        {
            return [gpu.Concat(inputs, axis, shape)];
        }

        return [Joined(inputs, axis, shape)];
    }

    /// <summary>Elements [<paramref name="start"/>, <paramref name="start"/> + <paramref name="size"/>) of <paramref name="x"/> along <paramref name="axis"/> (Scan's slices, SplitToSequence's pieces).</summary>
    public static Tensor Slab(Tensor x, int axis, int start, int size)
    {
        int[] shape = [.. x.Shape[..axis], size, .. x.Shape[(axis + 1)..]];
        return x.Gather(shape, Map(shape, index => Offset(x.Shape, [.. index[..axis], index[axis] + start, .. index[(axis + 1)..]])));
    }

    /// <summary>Tensors of one type and rank, equal but along <paramref name="axis"/>, joined into <paramref name="shape"/> (Concat, ConcatFromSequence).</summary>
    public static Tensor Joined(IReadOnlyList<Tensor> inputs, int axis, int[] shape)
    {
        var outer = (int)Tensor.ElementCount(inputs[0].Shape.AsSpan(0, axis));
        var blocks = new List<(Tensor, int, int)>();
        for (var o = 0; o < outer; o++)
        {
            foreach (var t in inputs)
            {
                var block = (int)Tensor.ElementCount(t.Shape.AsSpan(axis));
                blocks.Add((t, o * block, block));
            }
        }

        return Tensor.Join(inputs[0].Type, shape, blocks);
    }

    private static Tensor[] Split(OpContext c)
    {
        var x = c.Input(0);
        var axis = OpContext.Axis(c.GetInt("axis", 0), x.Rank);
        var sizes = SplitSizes(c, x.Shape[axis])!;

        if (sizes.Sum() != x.Shape[axis] || sizes.Any(s => s < 0))
        {
            throw new ModelException($"split sizes [{string.Join(", ", sizes)}] do not add up to dimension {axis} of {x}.");
        }

        var results = new Tensor[sizes.Length];
        var strides = RowMajorStrides(x.Shape);
        var start = 0;
        for (var i = 0; i < sizes.Length; i++)
        {
            var shape = (int[])x.Shape.Clone();
            shape[axis] = (int)sizes[i];
            results[i] = Walk(c, x, shape, strides, start * strides[axis]);
            start += (int)sizes[i];
        }

        return results;
    }

    private static Tensor[] Slice(OpContext c)
    {
        var x = c.Input(0);
        long[] starts, ends;
        long[]? axes, steps = null;
        if (c.Opset >= 10)
        {
            (starts, ends) = (c.Input(1).AsLongs(), c.Input(2).AsLongs());
            axes = c.Optional(3)?.AsLongs();
            steps = c.Optional(4)?.AsLongs();
        }
        else
        {
            (starts, ends) = (c.GetInts("starts") ?? [], c.GetInts("ends") ?? []);
            axes = c.GetInts("axes");
        }

        axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw new ModelException("starts, ends, axes and steps must have one entry each per sliced axis.");
        }

        var begin = new int[x.Rank];
        var stride = Enumerable.Repeat(1, x.Rank).ToArray();
        var shape = (int[])x.Shape.Clone();
        for (var i = 0; i < starts.Length; i++)
        {
            var axis = OpContext.Axis(axes[i], x.Rank);
            var dim = x.Shape[axis];
            var step = steps[i];
            if (step == 0)
            {
                throw new ModelException("a slice step cannot be 0.");
            }

            long Clamp(long v, long lo, long hi) => Math.Clamp(v < 0 ? v + dim : v, lo, hi);
            var (s, e) = step > 0 ? (Clamp(starts[i], 0, dim), Clamp(ends[i], 0, dim)) : (Clamp(starts[i], -1, dim - 1), Clamp(ends[i], -1, dim - 1));
            begin[axis] = (int)s;
            stride[axis] = (int)step;
            shape[axis] = (int)Math.Max(0, step > 0 ? (e - s + step - 1) / step : (s - e - step - 1) / -step);
        }

        var strides = RowMajorStrides(x.Shape);
        return [Walk(c, x, shape, [.. strides.Select((s, d) => s * stride[d])], begin.Select((b, d) => b * strides[d]).Sum())];
    }

    private static Tensor[] Gather(OpContext c)
    {
        var x = c.Input(0);
        var indices = c.Input(1);
        var axis = OpContext.Axis(c.GetInt("axis", 0), x.Rank);
        var positions = indices.AsLongs();
        var dim = x.Shape[axis];
        foreach (var p in positions)
        {
            if (p < -dim || p >= dim)
            {
                throw new ModelException($"index {p} is out of range for dimension {axis} of {x}.");
            }
        }

        int[] shape = [.. x.Shape[..axis], .. indices.Shape, .. x.Shape[(axis + 1)..]];
        if (c.Gpu is { } gpu && x.Type == ElementType.Float32)
        {
            return [gpu.Gather(x, axis, [.. positions.Select(p => (int)(p < 0 ? p + dim : p))], shape)];
        }

        var indexRank = indices.Rank;
        return [x.Gather(shape, Map(shape, index =>
        {
            var flat = 0;
            for (var d = 0; d < indexRank; d++)
            {
                flat = (flat * indices.Shape[d]) + index[axis + d];
            }

            var p = positions[flat];
            int[] source = [.. index[..axis], (int)(p < 0 ? p + dim : p), .. index[(axis + indexRank)..]];
            return Offset(x.Shape, source);
        }))];
    }

    private static Tensor Constant(OpContext c)
    {
        var a = c.Node.Attribute.FirstOrDefault() ?? throw new ModelException("Constant has no value.");
        return a.Name switch
        {
            "value" => Initializers.Read(a.T),
            "value_float" => Tensor.Scalar(a.F),
            "value_floats" => new Tensor([a.Floats.Count], [.. a.Floats]),
            "value_int" => Tensor.OfLongs([], [a.I]),
            "value_ints" => Tensor.OfLongs([a.Ints.Count], [.. a.Ints]),
            _ => throw new ModelException($"Constant's {a.Name} attribute is not supported."),
        };
    }
}
