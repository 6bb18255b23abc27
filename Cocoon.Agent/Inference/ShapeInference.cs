using Cocoon.Agent.Inference.Operators;
using Onnx;

namespace Cocoon.Agent.Inference;

/// <summary>
/// Static shape inference, once at load, for every supported operator: the shape of each value in
/// terms of the graph inputs' declared dimensions, before any tensor exists. A dimension is a number,
/// a symbol (a declared name such as "batch", or one minted for an unknown size, which equals only
/// itself) or unknown; a value's rank may be unknown too. Where the shapes already known cannot fit an
/// operator (inner dimensions of a product, broadcasting, concatenation, a convolution's channels)
/// the model is refused at load, naming the node, instead of failing part-way through a job. Where an
/// output depends on values only a run knows, its dimensions stay unknown; the run checks them.
/// </summary>
internal static class ShapeInference
{
    /// <summary>A dimension no rule could determine.</summary>
    public const long Unknown = long.MinValue;

    /// <summary>
    /// The inferred shape of every value the nodes produce, with the initializers' and inputs' own:
    /// dimensions ≥ 0 are sizes, negative ones symbols (<see cref="Symbols"/>), <see cref="Unknown"/>
    /// unknown; a null shape is an unknown rank.
    /// </summary>
    public sealed class Result
    {
        internal Dictionary<string, long[]?> Shapes { get; } = new(StringComparer.Ordinal);

        /// <summary>Symbol names by id (−1 is the first).</summary>
        internal List<string> Symbols { get; } = [];

        public long[]? ShapeOf(string value) => Shapes.GetValueOrDefault(value);

        /// <summary>The shape as text: [batch, 256], ? for an unknown dimension, [?…] for an unknown rank.</summary>
        public string Describe(string value) => ShapeOf(value) is { } shape
            ? $"[{string.Join(", ", shape.Select(d => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : d == Unknown ? "?" : Symbols[(int)(-d - 1)]))}]"
            : "[?…]";

        internal long Symbol(string name)
        {
            var at = Symbols.IndexOf(name);
            if (at < 0)
            {
                Symbols.Add(name);
                at = Symbols.Count - 1;
            }

            return -at - 1;
        }
    }

    /// <param name="exact">
    /// Inputs whose declared shapes the run enforces (constant folding relied on them). Every other
    /// input's leading dimension counts as a symbol even where a number is declared: exporters often
    /// write a batch of 1 that is then run with any batch.
    /// </param>
    public static Result Infer(GraphProto graph, IReadOnlyList<NodeProto> order, IReadOnlyDictionary<string, Tensor> constants, IReadOnlySet<string> exact, long opset)
    {
        var result = new Result();
        foreach (var (name, value) in constants)
        {
            result.Shapes[name] = [.. value.Shape.Select(d => (long)d)];
        }

        foreach (var input in graph.Input.Where(i => !constants.ContainsKey(i.Name)))
        {
            result.Shapes[input.Name] = input.Type?.TensorType?.Shape is { } shape
                ? [.. shape.Dim.Select((d, axis) => d.ValueCase switch
                {
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue >= 0 && (axis > 0 || exact.Contains(input.Name)) => d.DimValue,
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam when d.DimParam.Length > 0 => result.Symbol(d.DimParam),
                    _ => result.Symbol($"{input.Name}[{axis}]"),
                })]
                : null;
        }

        foreach (var node in order)
        {
            long[]?[] outputs;
            try
            {
                outputs = Node(node, [.. node.Input.Select(n => n.Length == 0 ? null : result.Shapes.GetValueOrDefault(n))], [.. node.Input.Select(n => constants.GetValueOrDefault(n))], opset);
            }
            catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or InvalidCastException or OverflowException or InvalidOperationException)
            {
                // Attributes a rule cannot read: the run reports what is wrong with them.
                outputs = [.. node.Output.Select(_ => (long[]?)null)];
            }
            catch (ModelException ex)
            {
                var name = node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault() ?? "?";
                throw new ModelException($"{node.OpType} (node '{name}'): {ex.Message} (shapes known at load: {string.Join(", ", node.Input.Where(n => n.Length > 0).Select(n => $"{n} {result.Describe(n)}"))})");
            }

            for (var i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i].Length > 0)
                {
                    result.Shapes[node.Output[i]] = i < outputs.Length ? outputs[i] : null;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Whether <paramref name="actual"/> fits <paramref name="inferred"/>, binding each symbol to the
    /// first size it meets in <paramref name="bound"/> (one run's sizes).
    /// </summary>
    public static bool Fits(long[]? inferred, int[] actual, Dictionary<long, int> bound)
    {
        if (inferred is null)
        {
            return true;
        }

        if (inferred.Length != actual.Length)
        {
            return false;
        }

        for (var d = 0; d < actual.Length; d++)
        {
            var dim = inferred[d];
            if (dim >= 0 ? dim != actual[d] : dim != Unknown && bound.TryGetValue(dim, out var size) && size != actual[d])
            {
                return false;
            }

            if (dim < 0 && dim != Unknown)
            {
                bound[dim] = actual[d];
            }
        }

        return true;
    }

    private static readonly HashSet<string> SameShape = new(StringComparer.Ordinal)
    {
        "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Erf", "LeakyRelu", "Elu", "HardSigmoid", "HardSwish",
        "Gelu", "Identity", "Not", "Softmax", "LogSoftmax", "Clip", "Cast", "BatchNormalization", "InstanceNormalization",
    };

    private static long[]?[] Node(NodeProto node, long[]?[] inputs, Tensor?[] constants, long opset)
    {
        var c = new OpContext(node, constants, opset);
        long[]? In(int i) => i < inputs.Length ? inputs[i] : null;
        int Axis(long axis, int rank) => OpContext.Axis(axis, rank);
        switch (node.OpType)
        {
            case var op when SameShape.Contains(op):
                return [In(0)];
            case "Dropout":
                return [In(0), In(0)];
            case "LayerNormalization":
                {
                    // Mean and inverse deviation keep the leading axes and set the normalised ones to 1.
                    var x = In(0);
                    var axis = x is null ? 0 : Axis(c.GetInt("axis", -1), x.Length);
                    return [x, x is null ? null : [.. x.Select((d, i) => i < axis ? d : 1)], x is null ? null : [.. x.Select((d, i) => i < axis ? d : 1)]];
                }

            case "Add" or "Sub" or "Mul" or "Div" or "Pow" or "Min" or "Max" or "Equal" or "Less" or "Greater" or "Where":
                return [inputs.Aggregate((long[]?)[], (shape, next) => shape is null || next is null ? null : Broadcast(shape, next))];
            case "MatMul":
                {
                    // With what fusion folded in: a [1, n] bias makes a vector's product [1, n], and a
                    // residual broadcasts with the product.
                    var product = MatMul(In(0), In(1));
                    if (product is { Length: 1 } && In(2) is { Length: 2 })
                    {
                        product = [1, .. product];
                    }

                    return [product is not null && In(3) is { } residual ? Broadcast(product, residual) : product];
                }
            case "Gemm":
                {
                    var (a, b) = (In(0), In(1));
                    if (a is null || b is null)
                    {
                        return [null];
                    }

                    if (a.Length != 2 || b.Length != 2)
                    {
                        throw new ModelException("Gemm takes two matrices.");
                    }

                    var (transA, transB) = (c.GetInt("transA", 0) == 1, c.GetInt("transB", 0) == 1);
                    Same(transA ? a[0] : a[1], transB ? b[1] : b[0], "the inner dimensions");
                    return [[transA ? a[1] : a[0], transB ? b[0] : b[1]]];
                }

            case "Conv" or "MaxPool" or "AveragePool":
                return [Window(c, node.OpType, In(0), In(1))];
            case "ConvTranspose":
                {
                    var (x, w) = (In(0), In(1));
                    return [x is null ? null : [x[0], w is null ? Unknown : w[1] * c.GetInt("group", 1), .. x.Skip(2).Select(_ => Unknown)]];
                }

            case "GlobalAveragePool":
                return [In(0) is { } g ? [g[0], g[1], .. g.Skip(2).Select(_ => 1L)] : null];
            case "Reshape":
                return [Reshape(In(0), constants[1]?.AsLongs(), c.GetInt("allowzero", 0) == 1)];
            case "Flatten":
                {
                    var x = In(0);
                    if (x is null)
                    {
                        return [[Unknown, Unknown]];
                    }

                    var axis = c.GetInt("axis", 1);
                    var split = (int)(axis < 0 ? axis + x.Length : axis);
                    return [[Product(x[..split]), Product(x[split..])]];
                }

            case "Transpose":
                {
                    var x = In(0);
                    if (x is null)
                    {
                        return [null];
                    }

                    var perm = c.GetInts("perm")?.Select(p => Axis(p, x.Length)).ToArray() ?? [.. Enumerable.Range(0, x.Length).Reverse()];
                    return [perm.Length == x.Length ? [.. perm.Select(p => x[p])] : throw new ModelException($"perm does not fit rank {x.Length}.")];
                }

            case "Concat":
                {
                    if (inputs.Any(s => s is null))
                    {
                        return [inputs.FirstOrDefault(s => s is not null) is { } any ? [.. any.Select(_ => Unknown)] : null];
                    }

                    var first = inputs[0]!;
                    var axis = Axis(c.GetInt("axis", 0), first.Length);
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
                                shape[d] = Same(shape[d], other[d], $"dimension {d}");
                            }
                        }
                    }

                    shape[axis] = inputs.Aggregate(0L, (sum, s) => sum == Unknown || s![axis] < 0 ? Unknown : sum + s[axis]);
                    return [shape];
                }

            case "Split":
                {
                    var x = In(0);
                    var count = Math.Max(node.Output.Count, 1);
                    if (x is null)
                    {
                        return [.. Enumerable.Repeat<long[]?>(null, count)];
                    }

                    var axis = Axis(c.GetInt("axis", 0), x.Length);
                    var sizes = Shapes.SplitSizes(c, x[axis]);

                    return [.. Enumerable.Range(0, count).Select(i => (long[]?)[.. x.Select((d, j) => j != axis ? d : sizes is not null && i < sizes.Length ? sizes[i] : Unknown)])];
                }

            case "Slice":
                return [Slice(c, In(0), opset)];
            case "Gather":
                {
                    var (x, indices) = (In(0), In(1));
                    if (x is null || indices is null)
                    {
                        return [null];
                    }

                    var axis = Axis(c.GetInt("axis", 0), x.Length);
                    return [[.. x[..axis], .. indices, .. x[(axis + 1)..]]];
                }

            case "Unsqueeze":
                {
                    var (x, axes) = (In(0), c.AttributeOrInput("axes", 1, 13));
                    if (x is null || axes is null)
                    {
                        return [null];
                    }

                    var rank = x.Length + axes.Length;
                    var at = axes.Select(a => Axis(a, rank)).ToHashSet();
                    var next = 0;
                    return [[.. Enumerable.Range(0, rank).Select(d => at.Contains(d) ? 1 : x[next++])]];
                }

            case "Squeeze":
                {
                    var x = In(0);
                    var axes = c.AttributeOrInput("axes", 1, 13);
                    var axesFed = opset >= 13 && node.Input.Count > 1 && node.Input[1].Length > 0;
                    if (x is null || (axes is null && (axesFed || x.Any(d => d < 0))))
                    {
                        // Which axes go is known only at run time.
                        return [null];
                    }

                    var at = axes?.Select(a => Axis(a, x.Length)).ToHashSet();
                    if (at is not null && at.Any(a => x[a] >= 0 && x[a] != 1))
                    {
                        throw new ModelException("an axis to squeeze is not of size 1.");
                    }

                    return [[.. x.Where((d, i) => at is null ? d != 1 : !at.Contains(i))]];
                }

            case "Shape":
                {
                    var x = In(0);
                    if (x is null)
                    {
                        return [[Unknown]];
                    }

                    var (start, end) = Shapes.ShapeRange(c, x.Length);
                    return [[end - start]];
                }

            case "Constant":
                return [c.Attribute("value") is { T: { } t } ? [.. t.Dims] : c.Attribute("value_floats") is { } f ? [f.Floats.Count] : c.Attribute("value_ints") is { } l ? [l.Ints.Count] : []];
            case "ConstantOfShape":
                return [constants[0]?.AsLongs() is { } dims ? dims : In(0) is [var length] && length >= 0 ? [.. Enumerable.Repeat(Unknown, (int)length)] : null];
            case "Expand":
                {
                    var x = In(0);
                    if (x is null)
                    {
                        return [null];
                    }

                    return [constants[1]?.AsLongs() is { } target ? Broadcast(x, target) : In(1) is [var targetRank] && targetRank >= 0 ? [.. Enumerable.Repeat(Unknown, (int)Math.Max(targetRank, x.Length))] : null];
                }

            case "Tile":
                {
                    var (x, repeats) = (In(0), constants[1]?.AsLongs());
                    return [x is null ? null : repeats is null ? [.. x.Select(_ => Unknown)] : [.. x.Select((d, i) => d >= 0 && i < repeats.Length ? d * repeats[i] : Unknown)]];
                }

            case "ReduceMean" or "ReduceSum" or "ReduceMax":
                return [Reduce(c, In(0), node.OpType == "ReduceSum" ? 13 : 18, node.Input.Count > 1 && node.Input[1].Length > 0)];
            case "ArgMax":
                {
                    var x = In(0);
                    if (x is null)
                    {
                        return [null];
                    }

                    var axis = Axis(c.GetInt("axis", 0), x.Length);
                    return [c.GetInt("keepdims", 1) == 1 ? [.. x.Select((d, i) => i == axis ? 1 : d)] : [.. x.Where((_, i) => i != axis)]];
                }

            case "Pad":
                {
                    var x = In(0);
                    var pads = opset >= 11 ? constants[1]?.AsLongs() : c.GetInts("pads") ?? c.GetInts("paddings");
                    if (x is null)
                    {
                        return [null];
                    }

                    return [pads is null || pads.Length != 2 * x.Length ? [.. x.Select(_ => Unknown)] : [.. x.Select((d, i) => d >= 0 ? d + pads[i] + pads[i + x.Length] : Unknown)]];
                }

            case "Resize":
                {
                    var x = In(0);
                    if (x is null)
                    {
                        return [null];
                    }

                    var sizes = node.Input.Count > 3 ? constants[3]?.AsLongs() : null;
                    var scales = opset >= 11 ? (node.Input.Count > 2 ? constants[2] : null) : constants.Length > 1 ? constants[1] : null;
                    if (sizes is { Length: > 0 } && sizes.Length == x.Length)
                    {
                        return [sizes];
                    }

                    return [scales is { Length: > 0 } s && s.Length == x.Length && s.Type == ElementType.Float32
                        ? [.. x.Select((d, i) => d >= 0 ? (long)Math.Floor(d * s.Data[i]) : Unknown)]
                        : [.. x.Select(_ => Unknown)]];
                }

            default:
                return [.. node.Output.Select(_ => (long[]?)null)];
        }
    }

    /// <summary>Two dimensions that must be equal: the known one, or a conflict.</summary>
    private static long Same(long a, long b, string what)
    {
        if (a >= 0 && b >= 0 && a != b)
        {
            throw new ModelException($"{what} are {a} and {b}; they must be equal.");
        }

        return a >= 0 ? a : b >= 0 ? b : a == b ? a : Unknown;
    }

    /// <summary>NumPy broadcasting of two inferred shapes; a conflict between two known sizes is an error.</summary>
    private static long[] Broadcast(long[] a, long[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var shape = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            var x = d - (rank - a.Length) >= 0 ? a[d - (rank - a.Length)] : 1;
            var y = d - (rank - b.Length) >= 0 ? b[d - (rank - b.Length)] : 1;
            shape[d] = x == 1 ? y : y == 1 ? x : x == y ? x : x >= 0 && y >= 0
                ? throw new ModelException($"shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}] do not broadcast (dimension {d}: {x} and {y}).")
                : x >= 0 ? x : y >= 0 ? y : Unknown;
        }

        return shape;
    }

    private static long[]? MatMul(long[]? a, long[]? b)
    {
        if (a is null || b is null)
        {
            return null;
        }

        if (a.Length == 0 || b.Length == 0)
        {
            throw new ModelException("MatMul takes tensors of rank 1 or more.");
        }

        var a2 = a.Length == 1 ? [1, a[0]] : a;
        var b2 = b.Length == 1 ? [b[0], 1] : b;
        Same(a2[^1], b2[^2], "the inner dimensions");
        List<long> shape = [.. Broadcast(a2[..^2], b2[..^2])];
        if (a.Length > 1)
        {
            shape.Add(a2[^2]);
        }

        if (b.Length > 1)
        {
            shape.Add(b2[^1]);
        }

        return [.. shape];
    }

    /// <summary>The number of elements: a size when all are known, a symbol when it is the only other factor (times 1s), else unknown.</summary>
    private static long Product(long[] dims)
    {
        var known = dims.Where(d => d >= 0).Aggregate(1L, (p, d) => p * d);
        var others = dims.Where(d => d < 0).ToList();
        return others.Count == 0 ? known : others is [var symbol] && symbol != Unknown && known == 1 ? symbol : Unknown;
    }

    /// <summary>
    /// Element counts of two shapes compared where they can be: the same symbols on both sides cancel,
    /// leaving the sizes' products. Null when an unknown dimension or unmatched symbols remain.
    /// </summary>
    private static (long Left, long Right)? KnownFactors(long[] left, long[] right)
    {
        if (left.Contains(Unknown) || right.Contains(Unknown))
        {
            return null;
        }

        var symbols = left.Where(d => d < 0).Order().ToList();
        if (!symbols.SequenceEqual(right.Where(d => d < 0).Order()))
        {
            return null;
        }

        return (left.Where(d => d >= 0).Aggregate(1L, (p, d) => p * d), right.Where(d => d >= 0).Aggregate(1L, (p, d) => p * d));
    }

    /// <summary>Conv and pooling: [N, filters or C, spatial…], the spatial sizes through the operator's own window arithmetic.</summary>
    private static long[]? Window(OpContext c, string op, long[]? x, long[]? w)
    {
        if (x is null)
        {
            return null;
        }

        if (x.Length != 4)
        {
            throw new ModelException($"{op} supports 2-D images ([N, C, H, W]); the input has rank {x.Length}.");
        }

        var channels = x[1];
        if (op == "Conv" && w is not null)
        {
            if (w.Length != 4)
            {
                throw new ModelException($"the weight has rank {w.Length}; 2-D convolutions take [M, C/group, kH, kW].");
            }

            if (channels >= 0 && w[1] >= 0 && channels != w[1] * c.GetInt("group", 1))
            {
                throw new ModelException($"the input has {channels} channels; the weight expects {w[1]} per group in {c.GetInt("group", 1)} group(s).");
            }
        }

        var kernel = c.GetInts("kernel_shape")?.Select(k => (int)k).ToArray() ?? (w is { Length: 4 } && w[2] >= 0 && w[3] >= 0 ? [(int)w[2], (int)w[3]] : null);
        long[] spatial = [Unknown, Unknown];
        if (kernel is not null && x[2] >= 0 && x[3] >= 0)
        {
            var win = Spatial.Windows(c, [(int)x[2], (int)x[3]], kernel, ceil: op != "Conv" && c.GetInt("ceil_mode", 0) == 1);
            spatial = [win[0].Output, win[1].Output];
        }

        if (op == "Conv" && GraphFusion.Pooled(c.Node))
        {
            spatial = [.. spatial.Select(d => d >= 0 ? d / 2 : d)];
        }

        return [x[0], op == "Conv" ? w?[0] ?? Unknown : channels, .. spatial];
    }

    private static long[]? Reshape(long[]? x, long[]? requested, bool allowZero)
    {
        if (requested is null)
        {
            return null;
        }

        var shape = new long[requested.Length];
        var infer = -1;
        for (var i = 0; i < requested.Length; i++)
        {
            shape[i] = requested[i] switch
            {
                0 when !allowZero => x is not null && i < x.Length ? x[i] : Unknown,
                -1 => Unknown,
                _ => requested[i],
            };
            infer = requested[i] == -1 ? i : infer;
        }

        if (x is null)
        {
            return shape;
        }

        if (infer >= 0)
        {
            // The -1 entry: what is left of x's elements once the other entries are taken, where the
            // same symbols stand on both sides (a batch copied by a 0 entry) or all sizes are known.
            var rest = shape.Where((_, i) => i != infer).ToArray();
            if (KnownFactors(x, rest) is var (total, taken))
            {
                shape[infer] = taken == 0 ? 0 : total % taken == 0 ? total / taken : throw new ModelException($"the elements of [{string.Join(", ", x)}] cannot take the shape [{string.Join(", ", requested)}].");
            }
            else if (x.Length > 0 && rest.Length > 0 && !x.Contains(Unknown) && !rest.Contains(Unknown) && x.Count(d => d < 0) == rest.Count(d => d < 0) + 1)
            {
                var extra = x.Where(d => d < 0).Except(rest.Where(d => d < 0)).ToList();
                if (extra is [var symbol] && KnownFactors([.. x.Where(d => d != symbol)], rest) is var (left, right) && left == right)
                {
                    shape[infer] = symbol;
                }
            }
        }
        else if (KnownFactors(x, shape) is var (from, to) && from != to)
        {
            throw new ModelException($"the elements of [{string.Join(", ", x)}] cannot take the shape [{string.Join(", ", requested)}].");
        }

        return shape;
    }

    private static long[]? Slice(OpContext c, long[]? x, long opset)
    {
        if (x is null)
        {
            return null;
        }

        long[]? starts, ends, axes, steps = null;
        if (opset >= 10)
        {
            (starts, ends, axes, steps) = (c.Optional(1)?.AsLongs(), c.Optional(2)?.AsLongs(), c.Optional(3)?.AsLongs(), c.Optional(4)?.AsLongs());
            var given = c.Node.Input.Count;
            if (starts is null || ends is null || (given > 3 && c.Node.Input[3].Length > 0 && axes is null) || (given > 4 && c.Node.Input[4].Length > 0 && steps is null))
            {
                // Which axes are sliced, or by how much, is known only at run time.
                return axes is null ? [.. x.Select(_ => Unknown)] : [.. x.Select((d, i) => axes.Any(a => OpContext.Axis(a, x.Length) == i) ? Unknown : d)];
            }
        }
        else
        {
            (starts, ends, axes) = (c.GetInts("starts") ?? [], c.GetInts("ends") ?? [], c.GetInts("axes"));
        }

        axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
        var shape = (long[])x.Clone();
        for (var i = 0; i < Math.Min(Math.Min(starts.Length, ends.Length), Math.Min(axes.Length, steps.Length)); i++)
        {
            var axis = OpContext.Axis(axes[i], x.Length);
            var (dim, step) = (x[axis], steps[i]);
            if (dim < 0 || step == 0)
            {
                shape[axis] = Unknown;
                continue;
            }

            long Clamp(long v, long low, long high) => Math.Clamp(v < 0 ? v + dim : v, low, high);
            var (from, to) = step > 0 ? (Clamp(starts[i], 0, dim), Clamp(ends[i], 0, dim)) : (Clamp(starts[i], -1, dim - 1), Clamp(ends[i], -1, dim - 1));
            shape[axis] = step > 0 ? Math.Max(0, (to - from + step - 1) / step) : Math.Max(0, (from - to - step - 1) / -step);
        }

        return shape;
    }

    private static long[]? Reduce(OpContext c, long[]? x, long axesInputSince, bool axesAsInput)
    {
        if (x is null)
        {
            return null;
        }

        var axes = c.Opset >= axesInputSince ? c.Optional(1)?.AsLongs() : c.GetInts("axes");
        if (axes is null && c.Opset >= axesInputSince && axesAsInput)
        {
            // Axes fed at run time: the rank is known only with keepdims.
            return c.GetInt("keepdims", 1) == 1 ? [.. x.Select(_ => Unknown)] : null;
        }

        if (axes is null or { Length: 0 } && c.GetInt("noop_with_empty_axes", 0) == 1)
        {
            return x;
        }

        var at = axes is null or { Length: 0 } ? [.. Enumerable.Range(0, x.Length)] : axes.Select(a => OpContext.Axis(a, x.Length)).ToHashSet();
        return c.GetInt("keepdims", 1) == 1 ? [.. x.Select((d, i) => at.Contains(i) ? 1 : d)] : [.. x.Where((_, i) => !at.Contains(i))];
    }
}
