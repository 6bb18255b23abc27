using System.Numerics.Tensors;
using Google.Protobuf;
using Onnx;

namespace Cocoon.Agent.Inference;

/// <summary>
/// An ONNX model loaded for row-wise inference: the graph is checked once at load (every operator
/// supported, every input defined, no cycles) and then evaluated on batches of dataset rows on the
/// CPU with System.Numerics.Tensors. It covers dense networks (MatMul/Gemm, element-wise arithmetic
/// with broadcasting, the common activations, Softmax); the full ILGPU engine replaces it.
/// </summary>
public sealed class OnnxRowModel
{
    /// <summary>Operators this engine runs.</summary>
    public static readonly IReadOnlySet<string> SupportedOperators = new HashSet<string>(StringComparer.Ordinal)
    {
        "MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Sqrt", "Identity", "Softmax",
    };

    private readonly List<NodeProto> _order;
    private readonly Dictionary<string, Tensor> _initializers;
    private readonly long _opset;

    private OnnxRowModel(List<NodeProto> order, Dictionary<string, Tensor> initializers, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, long opset)
    {
        _order = order;
        _initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
        _opset = opset;
    }

    /// <summary>Graph inputs that are not initializers: what the caller feeds, by name.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Graph outputs, by name.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <exception cref="ModelException">The bytes are not an ONNX model this engine can run; nothing was run.</exception>
    public static OnnxRowModel Load(ReadOnlySpan<byte> bytes)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new ModelException($"The model is not a valid ONNX file ({ex.Message}).");
        }

        var graph = model.Graph ?? throw new ModelException("The ONNX file holds no graph.");
        if (graph.Node.Count == 0)
        {
            throw new ModelException("The ONNX graph has no nodes.");
        }

        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        var unsupported = graph.Node
            .Where(n => n.Domain is not ("" or "ai.onnx") || !SupportedOperators.Contains(n.OpType))
            .Select(n => $"{(n.Domain is "" or "ai.onnx" ? "" : n.Domain + ".")}{n.OpType} (node '{NodeName(n)}')")
            .ToList();
        if (unsupported.Count > 0)
        {
            throw new ModelException($"The model uses operators this agent cannot run (opset {opset}): {string.Join(", ", unsupported)}.");
        }

        var initializers = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in graph.Initializer)
        {
            initializers[t.Name] = ReadInitializer(t);
        }

        var inputs = graph.Input.Select(i => i.Name).Where(n => !initializers.ContainsKey(n)).ToList();
        var outputs = graph.Output.Select(o => o.Name).ToList();
        if (inputs.Count == 0 || outputs.Count == 0)
        {
            throw new ModelException("The ONNX graph must have at least one input (not an initializer) and one output.");
        }

        return new OnnxRowModel(TopologicalOrder(graph, initializers.Keys.Concat(inputs)), initializers, inputs, outputs, opset);
    }

    /// <summary>Runs the graph on <paramref name="feeds"/> (one tensor per input, rows first) and returns the outputs by name.</summary>
    /// <exception cref="ModelException">A missing input or shapes that do not fit the graph.</exception>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> feeds) => Run(feeds, out _);

    /// <summary>Runs the graph and counts its floating-point operations (2·M·K·N per product, one per element otherwise).</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> feeds, out long flops)
    {
        flops = 0;
        ArgumentNullException.ThrowIfNull(feeds);
        var values = new Dictionary<string, Tensor>(_initializers, StringComparer.Ordinal);
        foreach (var name in Inputs)
        {
            values[name] = feeds.TryGetValue(name, out var t) ? t : throw new ModelException($"The model needs an input named '{name}' and the dataset has none.");
        }

        foreach (var node in _order)
        {
            var args = node.Input.Select(n => n.Length == 0 ? null : values[n]).ToArray();
            Tensor result;
            try
            {
                result = Evaluate(node, args);
            }
            catch (ModelException ex)
            {
                throw new ModelException($"{node.OpType} (node '{NodeName(node)}'): {ex.Message}");
            }

            flops += node.OpType is "MatMul" or "Gemm"
                ? 2 * result.Data.LongLength * (node.OpType == "Gemm" && Attribute(node, "transA")?.I == 1 ? args[0]!.Shape[0] : args[0]!.Shape[^1])
                : result.Data.LongLength;
            values[node.Output[0]] = result;
        }

        return Outputs.ToDictionary(n => n, n => values[n], StringComparer.Ordinal);
    }

    private Tensor Evaluate(NodeProto node, Tensor?[] args)
    {
        Tensor Arg(int i) => i < args.Length && args[i] is { } t ? t : throw new ModelException($"input {i} is missing.");
        return node.OpType switch
        {
            "MatMul" => MatMul(Arg(0), Arg(1)),
            "Gemm" => Gemm(node, Arg(0), Arg(1), args.Length > 2 ? args[2] : null),
            "Add" => Broadcast(Arg(0), Arg(1), static (a, b) => a + b),
            "Sub" => Broadcast(Arg(0), Arg(1), static (a, b) => a - b),
            "Mul" => Broadcast(Arg(0), Arg(1), static (a, b) => a * b),
            "Div" => Broadcast(Arg(0), Arg(1), static (a, b) => a / b),
            "Relu" => Map(Arg(0), static (x, y) => TensorPrimitives.Max(x, 0f, y)),
            "Sigmoid" => Map(Arg(0), static (x, y) => TensorPrimitives.Sigmoid(x, y)),
            "Tanh" => Map(Arg(0), static (x, y) => TensorPrimitives.Tanh(x, y)),
            "Exp" => Map(Arg(0), static (x, y) => TensorPrimitives.Exp(x, y)),
            "Neg" => Map(Arg(0), static (x, y) => TensorPrimitives.Negate(x, y)),
            "Sqrt" => Map(Arg(0), static (x, y) => TensorPrimitives.Sqrt(x, y)),
            "Identity" => Arg(0),
            "Softmax" => Softmax(node, Arg(0)),
            _ => throw new ModelException("not supported."),
        };
    }

    private static Tensor Map(Tensor x, Action<ReadOnlySpan<float>, Span<float>> op)
    {
        var y = new float[x.Data.Length];
        op(x.Data, y);
        return new Tensor(x.Shape, y);
    }

    /// <summary>[..., M, K] × [K, N]: the leading dimensions of A fold into its rows.</summary>
    private static Tensor MatMul(Tensor a, Tensor b)
    {
        if (b.Rank != 2 || a.Rank < 1)
        {
            throw new ModelException($"only [..., K] × [K, N] products are supported; got {a} × {b}.");
        }

        var k = a.Shape[^1];
        if (b.Shape[0] != k)
        {
            throw new ModelException($"shapes {a} and {b} do not fit (inner dimensions {k} and {b.Shape[0]}).");
        }

        var n = b.Shape[1];
        var rows = k == 0 ? (int)(Tensor.ElementCount(a.Shape.AsSpan(..^1))) : a.Data.Length / k;
        var c = new float[rows * n];
        Multiply(a.Data, b.Data, c, rows, k, n, transposeB: false);
        return new Tensor([.. a.Shape[..^1], n], c);
    }

    private static Tensor Gemm(NodeProto node, Tensor a, Tensor b, Tensor? c)
    {
        var transA = Attribute(node, "transA")?.I == 1;
        var transB = Attribute(node, "transB")?.I == 1;
        var alpha = Attribute(node, "alpha")?.F ?? 1f;
        var beta = Attribute(node, "beta")?.F ?? 1f;
        if (a.Rank != 2 || b.Rank != 2)
        {
            throw new ModelException($"Gemm takes two matrices; got {a} and {b}.");
        }

        if (transA)
        {
            a = Transpose(a);
        }

        var (m, k) = (a.Shape[0], a.Shape[1]);
        var (kb, n) = transB ? (b.Shape[1], b.Shape[0]) : (b.Shape[0], b.Shape[1]);
        if (k != kb)
        {
            throw new ModelException($"shapes {a} and {b} do not fit (inner dimensions {k} and {kb}).");
        }

        var y = new float[m * n];
        Multiply(a.Data, b.Data, y, m, k, n, transB);
        if (alpha != 1f)
        {
            TensorPrimitives.Multiply(y, alpha, y);
        }

        var result = new Tensor([m, n], y);
        if (c is null || beta == 0f)
        {
            return result;
        }

        var scaled = beta == 1f ? c : Map(c, (x, o) => TensorPrimitives.Multiply(x, beta, o));
        return Broadcast(result, scaled, static (p, q) => p + q);
    }

    private static void Multiply(float[] a, float[] b, float[] c, int m, int k, int n, bool transposeB)
    {
        var bt = transposeB ? Transpose(new Tensor([n, k], b)).Data : b;
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = m * (long)k * n < 1 << 16 ? 1 : -1 }, i =>
        {
            var row = c.AsSpan(i * n, n);
            for (var p = 0; p < k; p++)
            {
                TensorPrimitives.MultiplyAdd(bt.AsSpan(p * n, n), a[(i * k) + p], row, row);
            }
        });
    }

    private static Tensor Transpose(Tensor t)
    {
        var (r, c) = (t.Shape[0], t.Shape[1]);
        var y = new float[t.Data.Length];
        for (var i = 0; i < r; i++)
        {
            for (var j = 0; j < c; j++)
            {
                y[(j * r) + i] = t.Data[(i * c) + j];
            }
        }

        return new Tensor([c, r], y);
    }

    /// <summary>NumPy broadcasting: shapes align at the right; a dimension of 1 stretches.</summary>
    private static Tensor Broadcast(Tensor a, Tensor b, Func<float, float, float> op)
    {
        if (a.Shape.AsSpan().SequenceEqual(b.Shape))
        {
            var same = new float[a.Data.Length];
            for (var i = 0; i < same.Length; i++)
            {
                same[i] = op(a.Data[i], b.Data[i]);
            }

            return new Tensor(a.Shape, same);
        }

        var rank = Math.Max(a.Rank, b.Rank);
        var shape = new int[rank];
        var sa = Strides(a.Shape, rank);
        var sb = Strides(b.Shape, rank);
        for (var d = 0; d < rank; d++)
        {
            var da = d - (rank - a.Rank) >= 0 ? a.Shape[d - (rank - a.Rank)] : 1;
            var db = d - (rank - b.Rank) >= 0 ? b.Shape[d - (rank - b.Rank)] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new ModelException($"shapes {a} and {b} do not broadcast.");
            }

            shape[d] = da == 1 ? db : da;
        }

        var y = new float[Tensor.ElementCount(shape)];
        var index = new int[rank];
        for (var i = 0; i < y.Length; i++)
        {
            long ia = 0, ib = 0;
            for (var d = 0; d < rank; d++)
            {
                ia += index[d] * sa[d];
                ib += index[d] * sb[d];
            }

            y[i] = op(a.Data[ia], b.Data[ib]);
            for (var d = rank - 1; d >= 0 && ++index[d] == shape[d]; d--)
            {
                index[d] = 0;
            }
        }

        return new Tensor(shape, y);
    }

    /// <summary>Strides of <paramref name="shape"/> right-aligned to <paramref name="rank"/>, 0 where a dimension broadcasts.</summary>
    private static long[] Strides(int[] shape, int rank)
    {
        var strides = new long[rank];
        long stride = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            strides[d + (rank - shape.Length)] = shape[d] == 1 ? 0 : stride;
            stride *= shape[d];
        }

        return strides;
    }

    private Tensor Softmax(NodeProto node, Tensor x)
    {
        var axis = Attribute(node, "axis")?.I ?? (_opset >= 13 ? -1 : 1);
        if (axis < 0)
        {
            axis += x.Rank;
        }

        if (axis != x.Rank - 1)
        {
            throw new ModelException($"only Softmax over the last axis is supported; this one is over axis {axis} of {x}.");
        }

        var width = x.Shape[^1];
        var y = new float[x.Data.Length];
        for (var offset = 0; width > 0 && offset < y.Length; offset += width)
        {
            TensorPrimitives.SoftMax(x.Data.AsSpan(offset, width), y.AsSpan(offset, width));
        }

        return new Tensor(x.Shape, y);
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static string NodeName(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault() ?? "?";

    private static Tensor ReadInitializer(TensorProto t)
    {
        const int Float = 1;
        if (t.DataType != Float)
        {
            throw new ModelException($"Initializer '{t.Name}' has ONNX data type {t.DataType}; only float32 (1) is supported.");
        }

        if (t.Dims.Any(d => d < 0 || d > int.MaxValue))
        {
            throw new ModelException($"Initializer '{t.Name}' has an impossible shape.");
        }

        var shape = t.Dims.Select(d => (int)d).ToArray();
        var count = Tensor.ElementCount(shape);
        float[] data;
        if (t.RawData.Length > 0)
        {
            if (t.RawData.Length != count * sizeof(float))
            {
                throw new ModelException($"Initializer '{t.Name}' holds {t.RawData.Length} bytes; shape {Shape(shape)} needs {count * sizeof(float)}.");
            }

            data = new float[count];
            t.RawData.Span.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        }
        else
        {
            if (t.FloatData.Count != count)
            {
                throw new ModelException($"Initializer '{t.Name}' holds {t.FloatData.Count} floats; shape {Shape(shape)} needs {count}.");
            }

            data = [.. t.FloatData];
        }

        return new Tensor(shape, data);
    }

    private static string Shape(int[] shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>Kahn's algorithm: a node runs once all its inputs exist; a node left over is on a cycle or reads an undefined value.</summary>
    private static List<NodeProto> TopologicalOrder(GraphProto graph, IEnumerable<string> available)
    {
        var defined = new HashSet<string>(available, StringComparer.Ordinal);
        var remaining = graph.Node.ToList();
        var order = new List<NodeProto>(remaining.Count);
        while (remaining.Count > 0)
        {
            var ready = remaining.Where(n => n.Input.All(i => i.Length == 0 || defined.Contains(i))).ToList();
            if (ready.Count == 0)
            {
                var stuck = remaining[0];
                var missing = stuck.Input.First(i => i.Length > 0 && !defined.Contains(i));
                var produced = graph.Node.Any(n => n.Output.Contains(missing));
                throw new ModelException(produced
                    ? $"The ONNX graph has a cycle through node '{NodeName(stuck)}'."
                    : $"Node '{NodeName(stuck)}' reads '{missing}', which no input, initializer or node defines.");
            }

            foreach (var node in ready)
            {
                if (node.Output.Count == 0)
                {
                    throw new ModelException($"Node '{NodeName(node)}' has no output.");
                }

                order.Add(node);
                remaining.Remove(node);
                defined.UnionWith(node.Output);
            }
        }

        foreach (var output in graph.Output)
        {
            if (!defined.Contains(output.Name))
            {
                throw new ModelException($"Graph output '{output.Name}' is never computed.");
            }
        }

        return order;
    }
}
