using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Graph;
namespace Cocoon.Agent.Inference.Operators;

/// <summary>The declarations of the data-movement operators, with their shape rules; the kernels are in <c>Shapes.cs</c>.</summary>
internal static partial class Shapes
{
    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return Moving("Reshape", ReshapeRule, Reshape, [AttributeDeclaration.Int("allowzero", 0, 1)]) with { Inputs = new(2, 2), InputTypes = [ElementTypes.Any, ElementTypes.Integer] };
        yield return Moving("Flatten", FlattenRule, Flatten, [AttributeDeclaration.Int("axis")]);
        yield return Moving("Transpose", TransposeRule, c => [Transpose(c, c.Input(0), TransposeRule(c.Input(0).Rank, c.GetInts("perm")))], [AttributeDeclaration.Ints("perm")]);
        yield return Moving("Concat", ConcatRule, Concat, [AttributeDeclaration.Int("axis")]) with { Inputs = Arity.Any, SharedType = int.MaxValue };
        yield return Moving("Split", SplitRule, Split, [AttributeDeclaration.Int("axis"), AttributeDeclaration.Ints("split", 0), AttributeDeclaration.Int("num_outputs", 1)])
            with
        { Inputs = new(1, 2), Outputs = Arity.Any, InputTypes = [ElementTypes.Any, ElementTypes.Integer] };
        yield return Moving("Slice", c => [SliceRule(c)], Slice, [AttributeDeclaration.Ints("starts"), AttributeDeclaration.Ints("ends"), AttributeDeclaration.Ints("axes")])
            with
        { Inputs = new(1, 5), InputTypes = [ElementTypes.Any, ElementTypes.Integer] };
        yield return Moving("Gather", GatherRule, Gather, [AttributeDeclaration.Int("axis")]) with { Inputs = new(2, 2), InputTypes = [ElementTypes.Any, ElementTypes.Integer] };
        yield return Moving("Unsqueeze", UnsqueezeRule, Unsqueeze, [AttributeDeclaration.Ints("axes")]) with { Inputs = new(1, 2), InputTypes = [ElementTypes.Any, ElementTypes.Integer] };
        yield return Moving("Squeeze", SqueezeRule, Squeeze, [AttributeDeclaration.Ints("axes")]) with { Inputs = new(1, 2), InputTypes = [ElementTypes.Any, ElementTypes.Integer] };
        yield return Moving("Shape", c => [c.In(0) is { } x ? [ShapeRange(c, x.Length) is var (start, end) ? end - start : 0] : [Dims.Unknown]], c => [ShapeOf(c.Input(0).Shape, c)],
            [AttributeDeclaration.Int("start"), AttributeDeclaration.Int("end")]);
        yield return Moving("Constant", ConstantRule, c => [Constant(c)],
            [AttributeDeclaration.Tensor("value"), AttributeDeclaration.Float("value_float"), AttributeDeclaration.Floats("value_floats"), AttributeDeclaration.Int("value_int"), AttributeDeclaration.Ints("value_ints") with { MaxCount = int.MaxValue },
             AttributeDeclaration.String("value_string"), AttributeDeclaration.Strings("value_strings"), new("sparse_value", Onnx.AttributeProto.Types.AttributeType.SparseTensor)])
            with
        { Inputs = new(0, 0) };
        yield return Moving("ConstantOfShape", ConstantOfShapeRule, ConstantOfShape, [AttributeDeclaration.Tensor("value")]) with { InputTypes = [ElementTypes.Integer] };
        yield return Moving("Size", c => [[]], c => [Tensor.OfLongs([], [c.Input(0).Length])], []);
        yield return Moving("Expand", ExpandRule, Expand, []) with { Inputs = new(2, 2), InputTypes = [ElementTypes.Any, ElementTypes.Integer] };
        yield return Moving("Tile", TileRule, Tile, []) with { Inputs = new(2, 2), InputTypes = [ElementTypes.Any, ElementTypes.Integer] };
    }

    private static OperatorSchema Moving(string name, Func<ShapeContext, long[]?[]> shape, Func<OpContext, Tensor[]> run, AttributeDeclaration[] attributes) => new()
    {
        Name = name,
        Attributes = attributes,
        Shape = shape,
        Run = run,
    };

    private static long[]?[] ReshapeRule(ShapeContext c)
    {
        var (x, requested, allowZero) = (c.In(0), c.Longs(1), c.GetInt("allowzero", 0) == 1);
        if (requested is null)
        {
            return [null];
        }

        if (requested.Count(r => r == -1) > 1 || requested.Any(r => r < -1))
        {
            throw new ModelException($"shape [{string.Join(", ", requested)}] is not a valid Reshape target.");
        }

        var shape = new long[requested.Length];
        var infer = -1;
        for (var i = 0; i < requested.Length; i++)
        {
            shape[i] = requested[i] switch
            {
                0 when !allowZero => x is null ? Dims.Unknown : i < x.Length ? x[i] : throw new ModelException($"shape entry {i} copies a dimension the input does not have."),
                -1 => Dims.Unknown,
                _ => requested[i],
            };
            infer = requested[i] == -1 ? i : infer;
        }

        if (x is null)
        {
            return [shape];
        }

        if (infer >= 0)
        {
            // The -1 entry: what is left of x's elements once the other entries are taken, where the
            // same symbols stand on both sides (a batch copied by a 0 entry) or all sizes are known.
            var rest = shape.Where((_, i) => i != infer).ToArray();
            if (Dims.KnownFactors(x, rest) is var (total, taken))
            {
                shape[infer] = taken == 0 ? 0 : total % taken == 0 ? total / taken : throw new ModelException($"the elements of {Dims.Describe(x)} cannot take the shape [{string.Join(", ", requested)}].");
            }
            else if (x.Length > 0 && rest.Length > 0 && !x.Contains(Dims.Unknown) && !rest.Contains(Dims.Unknown) && x.Count(d => d < 0) == rest.Count(d => d < 0) + 1)
            {
                var extra = x.Where(d => d < 0).Except(rest.Where(d => d < 0)).ToList();
                if (extra is [var symbol] && Dims.KnownFactors([.. x.Where(d => d != symbol)], rest) is var (left, right) && left == right)
                {
                    shape[infer] = symbol;
                }
            }
        }
        else if (Dims.KnownFactors(x, shape) is var (from, to) && from != to)
        {
            throw new ModelException($"the elements of {Dims.Describe(x)} cannot take the shape [{string.Join(", ", requested)}].");
        }

        return [shape];
    }

    private static long[]?[] FlattenRule(ShapeContext c)
    {
        var x = c.In(0);
        if (x is null)
        {
            return [[Dims.Unknown, Dims.Unknown]];
        }

        var split = FlattenAxis(c.GetInt("axis", 1), x.Length);
        return [[Dims.Product(x[..split]), Dims.Product(x[split..])]];
    }

    /// <summary>Flatten's axis: 0 to the rank inclusive, negatives from the end.</summary>
    private static int FlattenAxis(long axis, int rank)
    {
        var split = axis < 0 ? axis + rank : axis;
        return split >= 0 && split <= rank ? (int)split : throw new ModelException($"axis {axis} is out of range for rank {rank}.");
    }

    private static Tensor[] Flatten(OpContext c)
    {
        var x = c.Input(0);
        var split = FlattenAxis(c.GetInt("axis", 1), x.Rank);
        return [x.Reshaped([(int)Tensor.ElementCount(x.Shape.AsSpan(0, split)), (int)Tensor.ElementCount(x.Shape.AsSpan(split))])];
    }

    private static long[]?[] TransposeRule(ShapeContext c) =>
        c.In(0) is { } x ? [[.. TransposeRule(x.Length, c.GetInts("perm")).Select(p => x[p])]] : [null];

    /// <summary>The permutation of a rank-<paramref name="rank"/> tensor: perm checked, or the axes reversed.</summary>
    private static int[] TransposeRule(int rank, long[]? perm)
    {
        var axes = perm?.Select(p => OpContext.Axis(p, rank)).ToArray() ?? [.. Enumerable.Range(0, rank).Reverse()];
        return axes.Length == rank && axes.Distinct().Count() == rank
            ? axes
            : throw new ModelException($"perm [{string.Join(", ", perm ?? [])}] is not a permutation of {rank} axes.");
    }

    private static long[]?[] ConcatRule(ShapeContext c)
    {
        var inputs = c.Shapes;
        if (inputs.Count == 0)
        {
            throw new ModelException("Concat needs at least one input.");
        }

        if (inputs.Any(s => s is null))
        {
            return [inputs.FirstOrDefault(s => s is not null) is { } any ? Dims.UnknownLike(any) : null];
        }

        var first = inputs[0]!;
        var axis = OpContext.Axis(c.GetInt("axis", 0), first.Length);
        var shape = (long[])first.Clone();
        foreach (var other in inputs.Skip(1))
        {
            if (other!.Length != first.Length)
            {
                throw new ModelException("the inputs differ in rank.");
            }

            for (var d = 0; d < first.Length; d++)
            {
                if (d != axis)
                {
                    shape[d] = Dims.Same(shape[d], other[d], $"dimension {d}");
                }
            }
        }

        shape[axis] = inputs.Aggregate(0L, (sum, s) => sum == Dims.Unknown || s![axis] < 0 ? Dims.Unknown : sum + s[axis]);
        return [shape];
    }

    private static long[]?[] SplitRule(ShapeContext c)
    {
        var x = c.In(0);
        var count = Math.Max(c.OutputCount, 1);
        if (x is null)
        {
            return [.. Enumerable.Repeat<long[]?>(null, count)];
        }

        var axis = OpContext.Axis(c.GetInt("axis", 0), x.Length);
        var sizes = SplitSizes(c, x[axis]);
        if (sizes is not null)
        {
            if (sizes.Length != count || sizes.Any(s => s < 0))
            {
                throw new ModelException($"split sizes [{string.Join(", ", sizes)}] do not give the node's {count} outputs.");
            }

            if (x[axis] >= 0 && sizes.Sum() != x[axis])
            {
                throw new ModelException($"split sizes [{string.Join(", ", sizes)}] do not add up to dimension {axis} of {Dims.Describe(x)}.");
            }
        }

        return [.. Enumerable.Range(0, count).Select(i => (long[]?)[.. x.Select((d, j) => j != axis ? d : sizes is not null && i < sizes.Length ? sizes[i] : Dims.Unknown)])];
    }

    private static long[]? SliceRule(ShapeContext c)
    {
        var x = c.In(0);
        if (x is null)
        {
            return null;
        }

        long[]? starts, ends, axes, steps = null;
        if (c.Opset >= 10)
        {
            (starts, ends, axes, steps) = (c.Longs(1), c.Longs(2), c.Longs(3), c.Longs(4));
            if (starts is null || ends is null || (c.Present(3) && axes is null) || (c.Present(4) && steps is null))
            {
                // Which axes are sliced, or by how much, is known only at run time.
                return axes is null ? Dims.UnknownLike(x) : [.. x.Select((d, i) => axes.Any(a => OpContext.Axis(a, x.Length) == i) ? Dims.Unknown : d)];
            }
        }
        else
        {
            (starts, ends, axes) = (c.GetInts("starts") ?? [], c.GetInts("ends") ?? [], c.GetInts("axes"));
        }

        axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw new ModelException("starts, ends, axes and steps must have one entry each per sliced axis.");
        }

        var resolved = axes.Select(a => OpContext.Axis(a, x.Length)).ToArray();
        if (resolved.Distinct().Count() != resolved.Length)
        {
            throw new ModelException("axes repeats an axis.");
        }

        var shape = (long[])x.Clone();
        for (var i = 0; i < starts.Length; i++)
        {
            var (dim, step) = (x[resolved[i]], steps[i]);
            if (step == 0)
            {
                throw new ModelException("a slice step cannot be 0.");
            }

            if (dim < 0)
            {
                shape[resolved[i]] = Dims.Unknown;
                continue;
            }

            long Clamp(long v, long low, long high) => Math.Clamp(v < 0 ? v + dim : v, low, high);
            var (from, to) = step > 0 ? (Clamp(starts[i], 0, dim), Clamp(ends[i], 0, dim)) : (Clamp(starts[i], -1, dim - 1), Clamp(ends[i], -1, dim - 1));
            shape[resolved[i]] = step > 0 ? Math.Max(0, (to - from + step - 1) / step) : Math.Max(0, (from - to - step - 1) / -step);
        }

        return shape;
    }

    private static long[]?[] GatherRule(ShapeContext c)
    {
        var (x, indices) = (c.In(0), c.In(1));
        if (x is null || indices is null)
        {
            return [null];
        }

        var axis = OpContext.Axis(c.GetInt("axis", 0), x.Length);
        return [[.. x[..axis], .. indices, .. x[(axis + 1)..]]];
    }

    private static long[]?[] UnsqueezeRule(ShapeContext c)
    {
        var (x, axes) = (c.In(0), c.AttributeOrInput("axes", 1, 13));
        if (x is null || axes is null)
        {
            return [null];
        }

        var rank = x.Length + axes.Length;
        var at = axes.Select(a => OpContext.Axis(a, rank)).ToHashSet();
        if (at.Count != axes.Length)
        {
            throw new ModelException("axes repeats an axis.");
        }

        var next = 0;
        return [[.. Enumerable.Range(0, rank).Select(d => at.Contains(d) ? 1 : x[next++])]];
    }

    private static Tensor[] Unsqueeze(OpContext c)
    {
        var x = c.Input(0);
        var axes = c.AttributeOrInput("axes", 1, 13) ?? throw new ModelException("Unsqueeze needs axes.");
        var rank = x.Rank + axes.Length;
        var resolved = axes.Select(a => OpContext.Axis(a, rank)).ToHashSet();
        var shape = new List<int>();
        var next = 0;
        for (var d = 0; d < rank; d++)
        {
            shape.Add(resolved.Contains(d) ? 1 : x.Shape[next++]);
        }

        return [x.Reshaped([.. shape])];
    }

    private static long[]?[] SqueezeRule(ShapeContext c)
    {
        var x = c.In(0);
        var axes = c.AttributeOrInput("axes", 1, 13);
        var axesFed = c.Opset >= 13 && c.Present(1);
        if (x is null || (axes is null && (axesFed || x.Any(d => d < 0))))
        {
            // Which axes go is known only at run time.
            return [null];
        }

        var at = axes?.Select(a => OpContext.Axis(a, x.Length)).ToHashSet();
        if (at is not null && at.Any(a => x[a] >= 0 && x[a] != 1))
        {
            throw new ModelException("an axis to squeeze is not of size 1.");
        }

        return [[.. x.Where((d, i) => at is null ? d != 1 : !at.Contains(i))]];
    }

    private static Tensor[] Squeeze(OpContext c)
    {
        var x = c.Input(0);
        var axes = c.AttributeOrInput("axes", 1, 13)?.Select(a => OpContext.Axis(a, x.Rank)).ToHashSet();
        if (axes is not null && axes.Any(a => x.Shape[a] != 1))
        {
            throw new ModelException($"cannot squeeze axes of size other than 1 from {x}.");
        }

        return [x.Reshaped([.. x.Shape.Where((d, i) => axes is null ? d != 1 : !axes.Contains(i))])];
    }

    private static long[]?[] ConstantRule(ShapeContext c) =>
        [c.Attribute("value") is { T: { } t } ? [.. t.Dims] : c.Attribute("value_floats") is { } f ? [f.Floats.Count] : c.Attribute("value_ints") is { } l ? [l.Ints.Count] : []];

    private static long[]?[] ConstantOfShapeRule(ShapeContext c)
    {
        if (c.Longs(0) is { } dims)
        {
            return dims.Any(d => d < 0 || d > int.MaxValue) ? throw new ModelException($"[{string.Join(", ", dims)}] is not a shape.") : [dims];
        }

        return [c.In(0) is [var length] && length >= 0 ? [.. Enumerable.Repeat(Dims.Unknown, (int)Math.Min(length, 64))] : null];
    }

    private static Tensor[] ConstantOfShape(OpContext c)
    {
        var shape = ToShape(c.Input(0).AsLongs());
        var value = c.Attribute("value") is { } v ? Initializers.Read(v.T) : Tensor.Scalar(0f);
        if (value.Length != 1)
        {
            throw new ModelException($"value must hold one element; it holds {value.Length}.");
        }

        return [value.Gather(shape, new int[Tensor.CheckedCount(shape)])];
    }

    private static long[]?[] ExpandRule(ShapeContext c)
    {
        var x = c.In(0);
        if (x is null)
        {
            return [null];
        }

        if (c.Longs(1) is { } target)
        {
            return target.Any(d => d < 0 || d > int.MaxValue) ? throw new ModelException($"[{string.Join(", ", target)}] is not a shape.") : [Dims.Broadcast(x, target)];
        }

        return [c.In(1) is [var targetRank] && targetRank >= 0 ? [.. Enumerable.Repeat(Dims.Unknown, (int)Math.Min(Math.Max(targetRank, x.Length), 64))] : null];
    }

    private static Tensor[] Expand(OpContext c)
    {
        var x = c.Input(0);
        var shape = Broadcasting.Shape(x.Shape, ToShape(c.Input(1).AsLongs()));
        return [Walk(c, x, shape, Broadcasting.Strides(x.Shape, shape), 0)];
    }

    private static long[]?[] TileRule(ShapeContext c)
    {
        var (x, repeats) = (c.In(0), c.Longs(1));
        if (x is null)
        {
            return [null];
        }

        if (repeats is null)
        {
            return [Dims.UnknownLike(x)];
        }

        if (repeats.Length != x.Length || repeats.Any(r => r < 0 || r > int.MaxValue))
        {
            throw new ModelException($"Tile needs {x.Length} non-negative repeats; got [{string.Join(", ", repeats)}].");
        }

        return [[.. x.Select((d, i) => d >= 0 ? d * repeats[i] : Dims.Unknown)]];
    }

    private static Tensor[] Tile(OpContext c)
    {
        var x = c.Input(0);
        var repeats = c.Input(1).AsLongs();
        if (repeats.Length != x.Rank || repeats.Any(r => r < 0))
        {
            throw new ModelException($"Tile needs {x.Rank} non-negative repeats; got [{string.Join(", ", repeats)}].");
        }

        var shape = x.Shape.Select((d, i) => checked(d * (int)repeats[i])).ToArray();
        return [Walk(c, x, shape, RowMajorStrides(x.Shape), 0, wrap: [.. x.Shape.Select(d => Math.Max(d, 1))])];
    }
}
