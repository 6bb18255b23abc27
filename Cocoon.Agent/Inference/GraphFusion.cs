using Google.Protobuf;
using Onnx;

namespace Cocoon.Agent.Inference;

/// <summary>
/// Load-time rewrites that remove whole passes over activations, the ones exporters leave for the
/// runtime to do: a BatchNormalization after a Conv folds into the Conv's weights and bias, and a Relu
/// after a Conv or Gemm becomes part of that node (applied as its output is written). A rewrite
/// applies only where the intermediate value has no other reader and is not a graph output, and the
/// parameters are constants, so the results are the same values up to float rounding.
/// </summary>
internal static class GraphFusion
{
    /// <summary>The attribute a fused node carries: the activation to apply to its output (never an ONNX attribute name).</summary>
    public const string Activation = "cocoon.activation";

    public static List<NodeProto> Fuse(List<NodeProto> order, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        var nodes = new List<NodeProto>(order);
        FoldBatchNormalization(nodes, initializers, outputs);
        FuseRelu(nodes, outputs);
        return nodes;
    }

    private static void FoldBatchNormalization(List<NodeProto> nodes, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var conv = nodes[i];
            if (conv.OpType != "Conv" || SoleReader(nodes, conv.Output[0], outputs) is not { OpType: "BatchNormalization" } bn
                || bn.Input.Count < 5 || bn.Output.Skip(1).Any(o => o.Length > 0) || bn.Attribute.Any(a => a.Name == "training_mode" && a.I == 1)
                || !initializers.TryGetValue(conv.Input[1], out var w) || w.Type != ElementType.Float32 || w.Rank != 4
                || !bn.Input.Skip(1).Take(4).All(initializers.ContainsKey))
            {
                continue;
            }

            Tensor? b = null;
            if (conv.Input.Count > 2 && conv.Input[2].Length > 0 && !initializers.TryGetValue(conv.Input[2], out b))
            {
                continue;
            }

            var filters = w.Shape[0];
            var (scale, shift, mean, variance) = (initializers[bn.Input[1]], initializers[bn.Input[2]], initializers[bn.Input[3]], initializers[bn.Input[4]]);
            if (new[] { scale, shift, mean, variance }.Any(t => t.Type != ElementType.Float32 || t.Length != filters) || (b is not null && (b.Type != ElementType.Float32 || b.Length != filters)))
            {
                continue;
            }

            // y = (conv(x) + b − mean) · a + shift with a = scale / √(var + ε): scale each filter by a.
            var epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            var per = w.Length / Math.Max(filters, 1);
            var weights = new float[w.Length];
            var bias = new float[filters];
            for (var f = 0; f < filters; f++)
            {
                var a = scale.Data[f] / MathF.Sqrt(variance.Data[f] + epsilon);
                for (var j = 0; j < per; j++)
                {
                    weights[(f * per) + j] = w.Data[(f * per) + j] * a;
                }

                bias[f] = (((b?.Data[f] ?? 0f) - mean.Data[f]) * a) + shift.Data[f];
            }

            var name = Unique(initializers, $"{bn.Output[0]}::folded");
            initializers[name + ".w"] = new Tensor(w.Shape, weights);
            initializers[name + ".b"] = new Tensor([filters], bias);
            var fused = conv.Clone();
            fused.Input.Clear();
            fused.Input.AddRange([conv.Input[0], name + ".w", name + ".b"]);
            fused.Output[0] = bn.Output[0];
            nodes[i] = fused;
            nodes.Remove(bn);
        }
    }

    private static void FuseRelu(List<NodeProto> nodes, IReadOnlyCollection<string> outputs)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (node.OpType is not ("Conv" or "Gemm") || node.Attribute.Any(a => a.Name == Activation)
                || SoleReader(nodes, node.Output[0], outputs) is not { OpType: "Relu" } relu)
            {
                continue;
            }

            var fused = node.Clone();
            fused.Attribute.Add(new AttributeProto { Name = Activation, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("Relu") });
            fused.Output[0] = relu.Output[0];
            nodes[i] = fused;
            nodes.Remove(relu);
        }
    }

    /// <summary>The only node reading <paramref name="value"/>, when exactly one does and it is not a graph output.</summary>
    private static NodeProto? SoleReader(List<NodeProto> nodes, string value, IReadOnlyCollection<string> outputs)
    {
        if (outputs.Contains(value))
        {
            return null;
        }

        var readers = nodes.Where(n => n.Input.Contains(value)).Take(2).ToList();
        return readers.Count == 1 && readers[0].Input.Count(i => i == value) == 1 ? readers[0] : null;
    }

    private static string Unique(Dictionary<string, Tensor> initializers, string name)
    {
        var candidate = name;
        for (var n = 2; initializers.ContainsKey(candidate + ".w") || initializers.ContainsKey(candidate + ".b"); n++)
        {
            candidate = $"{name}{n}";
        }

        return candidate;
    }
}
