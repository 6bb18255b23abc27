using Cocoon.Agent.Inference.Operators;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>
/// Brings a graph that imports opset 6, 7 or 8 to the form opset 9 gives the same meaning, before the
/// operator catalog checks it, as ONNX's version converter would: attributes those opsets had and later
/// ones dropped are removed where the engine already does what they asked, and anything they asked that
/// the engine does not do is refused by name. What changed:
/// <list type="bullet">
/// <item>Opset 6 binary operators' <c>broadcast</c>/<c>axis</c>: broadcast aligned B's dims with A's from
/// <c>axis</c> (default: trailing, as NumPy's rule does, which later opsets use). An <c>axis</c> that is not
/// trailing becomes an <c>Unsqueeze</c> of B's trailing dims, so NumPy's rule lines them up the same way.</item>
/// <item>Opset 6 <c>Gemm</c>'s <c>broadcast</c>: C broadcast to (M, N) or had that shape; opset 7 allows both.</item>
/// <item><c>BatchNormalization</c>'s <c>is_test</c> (opset 6) and <c>spatial</c> (opsets 6–8): the engine
/// infers, with statistics per channel; training mode or per-element statistics are refused.</item>
/// <item><c>Dropout</c>'s <c>is_test</c> (opset 6): inference either way.</item>
/// <item>Opset 6 <c>PRelu</c>'s slope of C values applies per channel (axis 1); it becomes an <c>Unsqueeze</c>
/// to [C, 1, …] so opset 7's broadcasting does the same.</item>
/// </list>
/// </summary>
internal static class LegacyOpsets
{
    private static readonly HashSet<string> LegacyBroadcast = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less",
    };

    /// <summary>Rewrites <paramref name="graph"/> in place for <paramref name="opset"/> (nothing to do from opset 9 on).</summary>
    /// <exception cref="ModelException">A node asks for something the engine does not do.</exception>
    public static void Upgrade(GraphProto graph, long opset)
    {
        if (opset >= 9)
        {
            return;
        }

        var ranks = KnownRanks(graph);
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            if (opset < 7 && LegacyBroadcast.Contains(node.OpType))
            {
                var broadcast = Remove(node, "broadcast")?.I ?? 0;
                var axis = Remove(node, "axis");
                if (broadcast != 0 && axis is not null && Unsqueeze(graph, node, axis.I, ranks) is { } unsqueeze)
                {
                    graph.Node.Insert(i, unsqueeze);
                    i++;
                }
            }
            else if (opset < 7 && node.OpType == "PRelu" && node.Input.Count == 2 && ranks.GetValueOrDefault(node.Input[1]) == 1 && !IsScalarSized(graph, node.Input[1])
                && Unsqueeze(graph, node, 1, ranks) is { } perChannel)
            {
                // Opset 6's slope of C values is per channel (axis 1); opset 7's is broadcast from the right.
                graph.Node.Insert(i, perChannel);
                i++;
            }
            else if (opset < 7 && node.OpType == "Gemm")
            {
                Remove(node, "broadcast");
            }
            else if (node.OpType == "BatchNormalization")
            {
                if (opset < 7 && Remove(node, "is_test") is { I: 0 })
                {
                    Refuse(node, "is_test = 0 asks for training mode; this agent runs inference only.");
                }

                if (Remove(node, "spatial") is { I: 0 })
                {
                    Refuse(node, "spatial = 0 (statistics per element) is not implemented; only per-channel statistics are.");
                }

                Remove(node, "consumed_inputs");
            }
            else if (opset < 7 && node.OpType == "Dropout")
            {
                Remove(node, "is_test");
            }
        }
    }

    /// <summary>
    /// An Unsqueeze of the node's B so that NumPy's trailing rule aligns it at <paramref name="axis"/> of A,
    /// or null when it already does. Needs both ranks (declared, or B an initializer).
    /// </summary>
    private static NodeProto? Unsqueeze(GraphProto graph, NodeProto node, long axis, Dictionary<string, int> ranks)
    {
        if (node.Input.Count != 2 || !ranks.TryGetValue(node.Input[0], out var rankA) || !ranks.TryGetValue(node.Input[1], out var rankB))
        {
            Refuse(node, $"aligning the second input at axis {axis} (opset 6) needs the ranks of both inputs known when the model loads (declared, or an initializer).");
            return null;
        }

        var trailing = rankA - (int)(axis < 0 ? axis + rankA : axis) - rankB;
        if (axis < -rankA || axis >= rankA || trailing < 0)
        {
            Refuse(node, $"broadcast axis {axis} does not fit a rank-{rankB} B into a rank-{rankA} A.");
        }

        if (trailing == 0)
        {
            return null;
        }

        var aligned = $"{node.Input[1]}__aligned_{OperatorCatalog.NodeName(node)}";
        var unsqueeze = new NodeProto { OpType = "Unsqueeze", Name = aligned, Input = { node.Input[1] }, Output = { aligned } };
        unsqueeze.Attribute.Add(new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { Enumerable.Range(rankB, trailing).Select(a => (long)a) } });
        node.Input[1] = aligned;
        ranks[aligned] = rankB + trailing;
        return unsqueeze;
    }

    /// <summary>Whether a rank-1 value is an initializer of one element (a slope shared by every channel).</summary>
    private static bool IsScalarSized(GraphProto graph, string name) =>
        graph.Initializer.FirstOrDefault(t => t.Name == name) is { } t && t.Dims.Count == 1 && t.Dims[0] == 1;

    /// <summary>Ranks the file states: inputs, outputs and value_info with a shape, and initializers.</summary>
    private static Dictionary<string, int> KnownRanks(GraphProto graph)
    {
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in graph.Input.Concat(graph.ValueInfo).Concat(graph.Output))
        {
            if (value.Type?.TensorType?.Shape is { } shape)
            {
                ranks[value.Name] = shape.Dim.Count;
            }
        }

        foreach (var initializer in graph.Initializer)
        {
            ranks[initializer.Name] = initializer.Dims.Count;
        }

        return ranks;
    }

    private static AttributeProto? Remove(NodeProto node, string name)
    {
        var attribute = node.Attribute.FirstOrDefault(a => a.Name == name);
        if (attribute is not null)
        {
            node.Attribute.Remove(attribute);
        }

        return attribute;
    }

    private static void Refuse(NodeProto node, string why) =>
        throw new ModelException($"{node.OpType} (node '{OperatorCatalog.NodeName(node)}'): {why}");
}
