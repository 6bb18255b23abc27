using Cocoon.Agent.Inference.Operators;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>
/// Runs 1-D convolutions and pools (audio front ends, sequence models) on the engine's 2-D kernels: a
/// node whose window has one spatial dimension becomes the same node over a height of 1, between an
/// <c>Unsqueeze</c> of its input (and weight) at axis 2 and a <c>Squeeze</c> of its output. Over a height of
/// 1 the 2-D window with kernel, stride and dilation 1 and no padding on that axis computes exactly the
/// 1-D one, element for element; the lifted weight of an initializer folds at load.
/// </summary>
internal static class OneDimensionalWindows
{
    private static readonly HashSet<string> Windowed = new(StringComparer.Ordinal) { "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool" };

    /// <summary>Rewrites <paramref name="graph"/> in place.</summary>
    /// <exception cref="ModelException">A 1-D node asks for something the lifted form cannot give.</exception>
    public static void Lift(GraphProto graph, long opset)
    {
        // A malformed file may name an initializer twice: the rewrite must not stop on it (the first serves here).
        var weightRanks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var initializer in graph.Initializer)
        {
            weightRanks.TryAdd(initializer.Name, initializer.Dims.Count);
        }

        string? axesInitializer = null;
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            if (!Windowed.Contains(node.OpType) || node.Domain is not ("" or "ai.onnx") || SpatialRank(node, weightRanks) != 1)
            {
                continue;
            }

            if (node.OpType == "MaxPool" && node.Output.Count > 1 && node.Output[1].Length > 0)
            {
                throw new ModelException($"MaxPool (node '{OperatorCatalog.NodeName(node)}'): the Indices output of a 1-D MaxPool is not implemented.");
            }

            if (opset >= 13)
            {
                axesInitializer ??= AddAxes(graph);
            }

            var name = OperatorCatalog.NodeName(node);
            var before = new List<NodeProto>();
            for (var input = 0; input < Math.Min(node.Input.Count, node.OpType.StartsWith("Conv", StringComparison.Ordinal) ? 2 : 1); input++)
            {
                var lifted = $"{node.Input[input]}__2d_{name}_{input}";
                before.Add(Reshape("Unsqueeze", node.Input[input], lifted, opset, axesInitializer));
                node.Input[input] = lifted;
            }

            var output = node.Output[0];
            node.Output[0] = $"{output}__2d_{name}";
            foreach (var attribute in node.Attribute)
            {
                try
                {
                    Widen(attribute);
                }
                catch (ModelException ex)
                {
                    throw new ModelException($"{node.OpType} (node '{name}'): {ex.Message}");
                }
            }

            graph.Node.Insert(i + 1, Reshape("Squeeze", node.Output[0], output, opset, axesInitializer));
            foreach (var unsqueeze in before.AsEnumerable().Reverse())
            {
                graph.Node.Insert(i, unsqueeze);
            }

            i += before.Count + 1;
        }
    }

    /// <summary>The window's spatial rank: from kernel_shape, else from the weight initializer's rank; 0 when unknown.</summary>
    private static int SpatialRank(NodeProto node, Dictionary<string, int> weightRanks)
    {
        if (node.Attribute.FirstOrDefault(a => a.Name == "kernel_shape") is { } kernel)
        {
            return kernel.Ints.Count;
        }

        return node.OpType.StartsWith("Conv", StringComparison.Ordinal) && node.Input.Count > 1 && weightRanks.TryGetValue(node.Input[1], out var rank) ? rank - 2 : 0;
    }

    /// <summary>A 1-D window attribute as the same window over a height of 1.</summary>
    private static void Widen(AttributeProto attribute)
    {
        switch (attribute.Name)
        {
            case "kernel_shape" or "strides" or "dilations" when attribute.Ints.Count == 1:
                attribute.Ints.Insert(0, 1);
                break;
            case "pads" when attribute.Ints.Count == 2:
                attribute.Ints.Insert(1, 0);
                attribute.Ints.Insert(0, 0);
                break;
            case "output_padding" when attribute.Ints.Count == 1:
                attribute.Ints.Insert(0, 0);
                break;
            case "output_shape" when attribute.Ints.Count == 1:
                attribute.Ints.Insert(0, 1);
                break;
            case "kernel_shape" or "strides" or "dilations" or "pads" or "output_padding" or "output_shape":
                // A list the wrong length for one spatial dimension would pass for a 2-D one once lifted.
                throw new ModelException($"{attribute.Name} [{string.Join(", ", attribute.Ints)}] does not fit a 1-D window.");
        }
    }

    private static NodeProto Reshape(string op, string input, string output, long opset, string? axesInitializer)
    {
        var node = new NodeProto { OpType = op, Name = output, Input = { input }, Output = { output } };
        if (axesInitializer is not null)
        {
            node.Input.Add(axesInitializer);
        }
        else
        {
            node.Attribute.Add(new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2 } });
        }

        return node;
    }

    /// <summary>From opset 13, Squeeze and Unsqueeze take their axes as an input: one int64 initializer [2] serves them all.</summary>
    private static string AddAxes(GraphProto graph)
    {
        const string name = "__cocoon_axis_2";
        graph.Initializer.Add(new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { 2 } });
        return name;
    }
}
