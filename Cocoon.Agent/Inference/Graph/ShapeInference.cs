using Cocoon.Agent.Inference.Operators;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>
/// Static shape inference, once at load, through each operator's declared shape rule (<see cref="OperatorSchema.Shape"/>): the shape of each value in
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
    public const long Unknown = Dims.Unknown;

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
    /// <param name="fed">The shapes one run is fed, which then stand for the graph inputs' declarations.</param>
    public static Result Infer(GraphProto graph, IReadOnlyList<NodeProto> order, IReadOnlyDictionary<string, Tensor> constants, IReadOnlySet<string> exact, long opset, IReadOnlyDictionary<string, int[]>? fed = null)
    {
        var result = new Result();
        foreach (var (name, value) in constants)
        {
            result.Shapes[name] = [.. value.Shape.Select(d => (long)d)];
        }

        foreach (var input in graph.Input.Where(i => !constants.ContainsKey(i.Name)))
        {
            if (fed?.GetValueOrDefault(input.Name) is { } given)
            {
                result.Shapes[input.Name] = [.. given.Select(d => (long)d)];
                continue;
            }

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
                var context = new ShapeContext(node, [.. node.Input.Select(n => n.Length == 0 ? null : result.Shapes.GetValueOrDefault(n))], [.. node.Input.Select(n => constants.GetValueOrDefault(n))], opset);
                outputs = OperatorCatalog.Get(node.OpType).Shape(context);
            }
            catch (Exception ex) when (ModelException.IsBadInput(ex))
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
}
