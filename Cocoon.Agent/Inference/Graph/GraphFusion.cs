using Cocoon.Agent.Inference.Cpu;
using Google.Protobuf;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>
/// Load-time rewrites that remove whole passes over activations, the ones exporters leave for the
/// runtime to do: a BatchNormalization after a Conv folds into the Conv's weights and bias, the
/// five-node erf GELU becomes one Gelu, a MatMul's constant bias Add, constant scale and residual
/// Add become part of the MatMul, a Relu or Gelu after a product becomes part of that node (applied
/// as its output is written), a 2×2 max pool after a Conv is taken as the Conv stores its output, and a
/// Gemm's constant transposed weight is stored transposed. A rewrite
/// applies only where the intermediate value has no other reader and is not a graph output, and the
/// parameters are constants, so the results are the same values up to float rounding.
/// </summary>
internal static class GraphFusion
{
    /// <summary>The attribute a fused node carries: the activation to apply to its output (never an ONNX attribute name).</summary>
    public const string Activation = "cocoon.activation";

    /// <summary>The attribute of a MatMul that a Mul or Div by a constant was folded into: the factor for its product.</summary>
    public const string Scale = "cocoon.scale";

    /// <summary>The attribute of a Conv that a 2×2, stride-2 MaxPool was folded into: 2, the pool's window and stride.</summary>
    public const string Pool = "cocoon.pool";

    /// <summary>The attribute of a fused element-wise chain (<see cref="Operators.ElementwiseChain"/>): its steps.</summary>
    public const string Steps = "cocoon.steps";

    /// <summary>The attribute of a fused element-wise chain: how many nodes it replaced.</summary>
    public const string Nodes = "cocoon.nodes";

    /// <summary>Whether <paramref name="node"/> is a Conv with a 2×2 max pool folded in (<see cref="Pool"/>).</summary>
    public static bool Pooled(NodeProto node) => node.Attribute.Any(a => a.Name == Pool && a.I == 2);

    public static List<NodeProto> Fuse(List<NodeProto> order, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        var nodes = new List<NodeProto>(order);
        FoldBatchNormalization(nodes, initializers, outputs);
        FoldConvAffine(nodes, initializers, outputs);
        FuseGelu(nodes, initializers, outputs);
        FuseMatMulBias(nodes, initializers, outputs);
        FuseMatMulScale(nodes, initializers, outputs);
        FuseResidual(nodes, initializers, outputs);
        FuseActivations(nodes, outputs);
        FusePooling(nodes, outputs);
        TransposeGemmWeights(nodes, initializers);
        return nodes;
    }

    /// <summary>
    /// The rewrites that need the inferred shapes of <see cref="Fuse"/>'s result: layer norms spelled
    /// out (<see cref="FuseLayerNormalization"/>), then element-wise chains: element-wise nodes that follow one another, each the only reader of the one before (a
    /// BatchNormalization with constant parameters, arithmetic with a second operand, the functions
    /// of <see cref="Operators.Elementwise.Unaries"/>), become one <see cref="Operators.ElementwiseChain"/>:
    /// one pass over the activations instead of one per node, and one dispatch. Runs after the other
    /// fusions (<see cref="Fuse"/>), so a Relu a product can take stays with the product, and on their
    /// inferred shapes (<paramref name="shapeOf"/>): a chain takes an operand only where it is known not
    /// to widen the value flowing through (a LayerNorm's 1/σ, one value per row, is where the rows come
    /// in, not a chain of its own). The chain stands where its last node stood: every operand is computed by then.
    /// </summary>
    public static List<NodeProto> FuseOnShapes(List<NodeProto> order, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs, Func<string, long[]?> shapeOf)
    {
        var nodes = new List<NodeProto>(order);
        FuseLayerNormalization(nodes, initializers, outputs, shapeOf);
        var named = nodes.SelectMany(n => n.Input.Concat(n.Output)).Concat(outputs).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            if (AsSteps(nodes[i], null, initializers, shapeOf) is not { } head)
            {
                continue;
            }

            var chain = new List<(NodeProto Node, ChainSteps Steps)> { (nodes[i], head) };
            while (SoleReader(nodes, chain[^1].Node.Output[0], outputs) is { } reader && AsSteps(reader, chain[^1].Node.Output[0], initializers, shapeOf) is { } next)
            {
                chain.Add((reader, next));
            }

            if (chain.Count < 2)
            {
                continue;
            }

            var last = chain[^1].Node;
            var fused = new NodeProto { OpType = Operators.ElementwiseChain.Name, Name = $"{last.Name}::chain" };
            fused.Input.Add(head.Flowing);
            var steps = new List<string>();
            foreach (var (node, part) in chain)
            {
                foreach (var (op, operand, constant, left, channel) in part.Steps)
                {
                    if (operand is null && constant is null)
                    {
                        steps.Add(op);
                        continue;
                    }

                    var name = operand;
                    if (constant is not null)
                    {
                        // A name no value of the graph has: a model's own names may look like anything.
                        name = $"{node.Output[0]}::{op}";
                        for (var n = 2; initializers.ContainsKey(name) || named.Contains(name); n++)
                        {
                            name = $"{node.Output[0]}::{op}{n}";
                        }

                        initializers[name] = constant;
                        named.Add(name);
                    }

                    fused.Input.Add(name!);
                    steps.Add(new Operators.ElementwiseChain.Step(op, fused.Input.Count - 1, left, channel).ToString());
                }
            }

            fused.Output.Add(last.Output[0]);
            fused.Attribute.Add(new AttributeProto { Name = Steps, Type = AttributeProto.Types.AttributeType.Strings, Strings = { steps.Select(ByteString.CopyFromUtf8) } });
            fused.Attribute.Add(new AttributeProto { Name = Nodes, Type = AttributeProto.Types.AttributeType.Int, I = chain.Count });
            nodes[nodes.IndexOf(last)] = fused;
            foreach (var (node, _) in chain.SkipLast(1))
            {
                nodes.Remove(node);
            }

            i--;
        }

        return nodes;
    }

    /// <summary>What a node becomes in a chain: the value flowing in, and its steps (an operand by name, or a new constant).</summary>
    private sealed record ChainSteps(string Flowing, List<(string Op, string? Operand, Tensor? Constant, bool Left, bool Channel)> Steps);

    /// <summary>
    /// <paramref name="node"/> as chain steps with <paramref name="flowing"/> (any input for the
    /// chain's first node) flowing through it; null when it cannot be one.
    /// </summary>
    private static ChainSteps? AsSteps(NodeProto node, string? flowing, Dictionary<string, Tensor> initializers, Func<string, long[]?> shapeOf)
    {
        // Whether operand broadcasts into the flowing value without widening it, by the inferred shapes:
        // no dimension known to be wider than the flowing one's (where a symbol or an unknown turns out
        // to widen it after all, the chain sees so when it runs, and goes node by node).
        bool Within(string operand, string into) =>
            (shapeOf(operand), shapeOf(into)) is ({ } o, { } f) && o.Length <= f.Length
            && o.Select((d, j) => f[f.Length - o.Length + j] is var fd && (d == 1 || d == fd || fd < 0 || d < 0)).All(fits => fits);

        if (node.Output.Count != 1 || node.Domain is not ("" or "ai.onnx") || node.Input.Any(n => n.Length == 0))
        {
            return null;
        }

        if (Operators.Elementwise.Unaries.ContainsKey(node.OpType) && node.Attribute.Count == 0 && node.Input.Count == 1)
        {
            return flowing is null || node.Input[0] == flowing ? new(node.Input[0], [(node.OpType, null, null, false, false)]) : null;
        }

        var op = node.OpType == "Sum" ? "Add" : node.OpType;
        if (Operators.ElementwiseChain.Binaries.Contains(op) && node.Attribute.Count == 0 && node.Input.Count == 2)
        {
            // The first node flows through its first input unless that one is a constant or would be widened.
            var at = flowing is not null ? node.Input.IndexOf(flowing)
                : !initializers.ContainsKey(node.Input[0]) && Within(node.Input[1], node.Input[0]) ? 0 : 1;
            return at < 0 || !Within(node.Input[1 - at], node.Input[at]) ? null : new(node.Input[at], [(op, node.Input[1 - at], null, at == 1, false)]);
        }

        // Inference batch norm with constant parameters: a per-channel scale and shift.
        if (node.OpType == "BatchNormalization" && node.Input.Count == 5 && (flowing is null || node.Input[0] == flowing)
            && !node.Attribute.Any(a => a.Name == "training_mode" && a.I != 0)
            && node.Input.Skip(1).Select(n => initializers.GetValueOrDefault(n)).ToList() is var parameters
            && parameters.All(p => p is { Type: ElementType.Float32, Rank: 1 } && p.Length == parameters[0]!.Length))
        {
            var epsilon = node.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            var (factor, offset) = Operators.Normalization.Affine(parameters[0]!.Data, parameters[1]!.Data, parameters[2]!.Data, parameters[3]!.Data, epsilon);
            return new(node.Input[0], [("Mul", null, new Tensor([factor.Length], factor), false, true), ("Add", null, new Tensor([offset.Length], offset), false, true)]);
        }

        return null;
    }

    /// <summary>
    /// A Gemm with transB = 1 and a constant B (how exporters write a linear layer) gets B transposed
    /// once, here, instead of on every run.
    /// </summary>
    private static void TransposeGemmWeights(List<NodeProto> nodes, Dictionary<string, Tensor> initializers)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var gemm = nodes[i];
            if (gemm.OpType != "Gemm" || gemm.Input.Count < 2 || !gemm.Attribute.Any(a => a.Name == "transB" && a.I == 1)
                || !initializers.TryGetValue(gemm.Input[1], out var b) || b is not { Type: ElementType.Float32, Rank: 2 })
            {
                continue;
            }

            var name = gemm.Input[1] + "::transposed";
            if (!initializers.ContainsKey(name))
            {
                var (rows, columns) = (b.Shape[0], b.Shape[1]);
                var values = new float[b.Length];
                for (var r = 0; r < rows; r++)
                {
                    for (var col = 0; col < columns; col++)
                    {
                        values[(col * rows) + r] = b.Data[(r * columns) + col];
                    }
                }

                initializers[name] = new Tensor([columns, rows], values);
            }

            var plain = gemm.Clone();
            plain.Input[1] = name;
            plain.Attribute.Remove(plain.Attribute.First(a => a.Name == "transB"));
            nodes[i] = plain;
        }
    }

    /// <summary>
    /// The erf GELU as exporters spell it, x · (1 + erf(x / √2)) · 0.5 in five nodes (Div, Erf, Add,
    /// Mul, Mul, either operand order for Add and Mul), becomes one Gelu node: one pass instead of five.
    /// </summary>
    private static void FuseGelu(List<NodeProto> nodes, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        bool Scalar(string name, float value) =>
            initializers.TryGetValue(name, out var t) && t is { Type: ElementType.Float32, Length: 1 } && MathF.Abs(t.Data[0] - value) <= 1e-4f * MathF.Abs(value);

        // The operand of a two-input node that is not the given one; null when neither or both are.
        static string? Other(NodeProto node, string known) =>
            node.Input.Count != 2 ? null : node.Input[0] == known ? node.Input[1] : node.Input[1] == known ? node.Input[0] : null;

        for (var i = 0; i < nodes.Count; i++)
        {
            var div = nodes[i];
            if (div.OpType != "Div" || div.Input.Count != 2 || !Scalar(div.Input[1], MathF.Sqrt(2f)))
            {
                continue;
            }

            var x = div.Input[0];
            if (SoleReader(nodes, div.Output[0], outputs) is not { OpType: "Erf" } erf
                || SoleReader(nodes, erf.Output[0], outputs) is not { OpType: "Add" } add || Other(add, erf.Output[0]) is not { } one || !Scalar(one, 1f)
                || SoleReader(nodes, add.Output[0], outputs) is not { OpType: "Mul" } mul || Other(mul, add.Output[0]) != x
                || SoleReader(nodes, mul.Output[0], outputs) is not { OpType: "Mul" } half || Other(half, mul.Output[0]) is not { } h || !Scalar(h, 0.5f))
            {
                continue;
            }

            var gelu = new NodeProto { OpType = "Gelu", Name = $"{half.Name}::gelu" };
            gelu.Input.Add(x);
            gelu.Output.Add(half.Output[0]);
            nodes[nodes.IndexOf(half)] = gelu;
            foreach (var fused in new[] { div, erf, add, mul })
            {
                nodes.Remove(fused);
            }

            i--;
        }
    }

    /// <summary>
    /// Layer normalisation as exporters before opset 17 spell it over the last axis, in nine nodes:
    /// mean = ReduceMean(x), d = x − mean, σ = Sqrt(ReduceMean(d²) + ε), (d / σ) · γ + β, with γ and β
    /// constant rows as long as x's last axis (by the inferred shapes, so γ and β broadcast as they
    /// did), becomes one LayerNormalization: one pass per row instead of nine nodes (the wake-word
    /// heads of openwakeword are little else).
    /// </summary>
    private static void FuseLayerNormalization(List<NodeProto> nodes, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs, Func<string, long[]?> shapeOf)
    {
        bool Constant(string name, out Tensor value) => initializers.TryGetValue(name, out value!) && value.Type == ElementType.Float32;

        // A mean over the last axis that keeps it: axes [-1] as an attribute or (opset 18) an input.
        bool LastAxisMean(NodeProto node) =>
            node.OpType == "ReduceMean" && node.Input.Count is 1 or 2
            && !node.Attribute.Any(a => (a.Name == "keepdims" && a.I != 1) || (a.Name == "noop_with_empty_axes" && a.I != 0))
            && (node.Input.Count == 2
                ? initializers.TryGetValue(node.Input[1], out var axes) && axes.Type == ElementType.Int64 && axes.Longs is [-1]
                : node.Attribute.FirstOrDefault(a => a.Name == "axes") is { Ints: [-1] });

        // The operand of a two-input node that is not the given one, either order.
        static string? Other(NodeProto node, string known) =>
            node.Input.Count != 2 ? null : node.Input[0] == known ? node.Input[1] : node.Input[1] == known ? node.Input[0] : null;

        for (var i = 0; i < nodes.Count; i++)
        {
            var mean = nodes[i];
            if (!LastAxisMean(mean) || SoleReader(nodes, mean.Output[0], outputs) is not { OpType: "Sub" } sub || sub.Input[0] != mean.Input[0] || sub.Input[1] != mean.Output[0]
                || outputs.Contains(sub.Output[0]) || nodes.Where(n => n.Input.Contains(sub.Output[0])).ToList() is not [var r0, var r1]
                || (r0.OpType, r1.OpType) is not (("Pow", "Div") or ("Div", "Pow")) || (r0.OpType == "Pow" ? r0 : r1) is not { } pow || (r0.OpType == "Pow" ? r1 : r0) is not { } div
                || pow.Input[0] != sub.Output[0] || pow.Input.Count != 2 || pow.Input[1] == sub.Output[0] || !Constant(pow.Input[1], out var two) || two is not { Length: 1, Rank: <= 1 } || two.Data[0] != 2f
                || div.Input[0] != sub.Output[0]
                || SoleReader(nodes, pow.Output[0], outputs) is not { } variance || !LastAxisMean(variance)
                || SoleReader(nodes, variance.Output[0], outputs) is not { OpType: "Add" } addEpsilon || Other(addEpsilon, variance.Output[0]) is not { } e
                || !Constant(e, out var epsilon) || epsilon is not { Length: 1, Rank: <= 1 }
                || SoleReader(nodes, addEpsilon.Output[0], outputs) is not { OpType: "Sqrt" } sqrt || div.Input[1] != sqrt.Output[0] || SoleReader(nodes, sqrt.Output[0], outputs) != div
                || SoleReader(nodes, div.Output[0], outputs) is not { OpType: "Mul" } mul || Other(mul, div.Output[0]) is not { } g || !Constant(g, out var gamma) || gamma.Rank != 1
                || SoleReader(nodes, mul.Output[0], outputs) is not { OpType: "Add" } add || Other(add, mul.Output[0]) is not { } b || !Constant(b, out var beta) || beta.Rank != 1
                || shapeOf(mean.Input[0]) is not [.., var last] || last != gamma.Length || last != beta.Length)
            {
                continue;
            }

            var norm = new NodeProto { OpType = "LayerNormalization", Name = $"{add.Name}::layernorm" };
            norm.Input.AddRange([mean.Input[0], g, b]);
            norm.Output.Add(add.Output[0]);
            norm.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
            norm.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = epsilon.Data[0] });
            nodes[nodes.IndexOf(add)] = norm;
            foreach (var fused in new[] { mean, sub, pow, variance, addEpsilon, sqrt, div, mul })
            {
                nodes.Remove(fused);
            }

            i--;
        }
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

            // y = (conv(x) + b) · a + shift, the batch norm's affine map: scale each filter by a.
            var epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            var (factor, offset) = Operators.Normalization.Affine(scale.Data, shift.Data, mean.Data, variance.Data, epsilon);
            var per = w.Length / Math.Max(filters, 1);
            var weights = new float[w.Length];
            var bias = new float[filters];
            for (var f = 0; f < filters; f++)
            {
                for (var j = 0; j < per; j++)
                {
                    weights[(f * per) + j] = w.Data[(f * per) + j] * factor[f];
                }

                bias[f] = ((b?.Data[f] ?? 0f) * factor[f]) + offset[f];
            }

            var name = Unique(initializers, $"{bn.Output[0]}::folded");
            initializers[name + ".w"] = new Tensor(w.Shape, weights);
            initializers[name + ".b"] = new Tensor([filters], bias);
            var fused = conv.Clone();
            fused.Input.Clear();
            fused.Input.AddRange([conv.Input[0], name + ".w", name + ".b"]);
            Absorb(nodes, i, fused, bn);
        }
    }

    /// <summary>
    /// A Mul, Div, Add or Sub by a constant holding one value per output channel (or one value) after a
    /// Conv becomes part of the Conv's weights and bias, as a batch norm does: Caffe2's exports scale
    /// and shift every convolution this way after its batch norm. Repeats while one follows another,
    /// so Conv → BatchNormalization → Mul → Add is one Conv, and a Relu after it is then fused too.
    /// </summary>
    private static void FoldConvAffine(List<NodeProto> nodes, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var conv = nodes[i];
            if (conv.OpType != "Conv" || SoleReader(nodes, conv.Output[0], outputs) is not { OpType: "Mul" or "Div" or "Add" or "Sub", Input.Count: 2 } follower
                || follower.Input[0] != conv.Output[0] || !initializers.TryGetValue(follower.Input[1], out var k) || k.Type != ElementType.Float32
                || !initializers.TryGetValue(conv.Input[1], out var w) || w.Type != ElementType.Float32 || w.Rank < 3)
            {
                continue;
            }

            Tensor? b = null;
            var filters = w.Shape[0];
            if ((conv.Input.Count > 2 && conv.Input[2].Length > 0 && (!initializers.TryGetValue(conv.Input[2], out b) || b.Type != ElementType.Float32 || b.Length != filters))
                || !PerChannel(k.Shape, w.Rank, filters) || !k.Data.All(float.IsFinite) || (follower.OpType == "Div" && k.Data.Contains(0f)))
            {
                continue;
            }

            // Conv's output is [N, F, spatial…], of the weight's rank: k must hold one value per filter or one in all.
            float At(int f) => k.Length == 1 ? k.Data[0] : k.Data[f];
            var per = w.Length / Math.Max(filters, 1);
            var weights = (float[])w.Data.Clone();
            var bias = b is null ? new float[filters] : (float[])b.Data.Clone();
            for (var f = 0; f < filters; f++)
            {
                var (scale, shift) = follower.OpType switch
                {
                    "Mul" => (At(f), 0f),
                    "Div" => ((float)(1.0 / At(f)), 0f),
                    "Add" => (1f, At(f)),
                    _ => (1f, -At(f)),
                };
                if (scale != 1f)
                {
                    System.Numerics.Tensors.TensorPrimitives.Multiply(weights.AsSpan(f * per, per), scale, weights.AsSpan(f * per, per));
                }

                bias[f] = (bias[f] * scale) + shift;
            }

            // Scaled past float's range (a tiny divisor, a huge factor), the fold would turn what the
            // nodes compute into infinities or NaN: those stay nodes.
            if (!weights.All(float.IsFinite) || !bias.All(float.IsFinite))
            {
                continue;
            }

            var name = Unique(initializers, $"{follower.Output[0]}::folded");
            initializers[name + ".w"] = new Tensor(w.Shape, weights);
            initializers[name + ".b"] = new Tensor([filters], bias);
            var fused = conv.Clone();
            fused.Input.Clear();
            fused.Input.AddRange([conv.Input[0], name + ".w", name + ".b"]);
            Absorb(nodes, i, fused, follower);
            i--;
        }

        // One value, or a filter's worth along axis 1 of a rank-<paramref name="rank"/> output, without widening it.
        static bool PerChannel(int[] shape, int rank, int filters) =>
            shape.All(d => d == 1) ? shape.Length <= rank
            : shape.Length >= rank - 1 && shape.Length <= rank && shape[shape.Length - rank + 1] == filters
                && shape.Select((d, j) => j == shape.Length - rank + 1 || d == 1).All(ok => ok);
    }

    /// <summary>
    /// A Relu or an exact Gelu after a node whose operator declares it can take that activation
    /// (<see cref="Operators.OperatorSchema.FusedActivations"/>: Relu after a Conv, Gemm or MatMul, Gelu
    /// after a Gemm or MatMul) becomes part of that node: applied to each block of the product as it is
    /// finished, not as a pass of its own.
    /// </summary>
    private static void FuseActivations(List<NodeProto> nodes, IReadOnlyCollection<string> outputs)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (node.Attribute.Any(a => a.Name == Activation) || SoleReader(nodes, node.Output[0], outputs) is not { } activation)
            {
                continue;
            }

            var kind = activation.OpType switch
            {
                "Relu" => Cpu.Activation.Relu,
                "Gelu" when !activation.Attribute.Any(a => a.Name == "approximate" && a.S.ToStringUtf8() != "none") => Cpu.Activation.Gelu,
                _ => Cpu.Activation.None,
            };
            if (kind == Cpu.Activation.None || !Operators.OperatorCatalog.Get(node.OpType).FusedActivations.Contains(kind))
            {
                continue;
            }

            var fused = With(node, new AttributeProto { Name = Activation, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(activation.OpType) });
            Absorb(nodes, i, fused, activation);
        }
    }

    /// <summary>
    /// A Conv (its Relu fused or not) whose output only a 2×2, stride-2 MaxPool reads, without padding,
    /// dilation, ceil mode or indices (the pool of every CNN's downsampling stage), stores the maxima of
    /// each window instead of every output: the pool's pass, and writing and reading back the full-size
    /// output, are saved.
    /// </summary>
    private static void FusePooling(List<NodeProto> nodes, IReadOnlyCollection<string> outputs)
    {
        static bool Is(NodeProto node, string name, params long[] values) =>
            node.Attribute.FirstOrDefault(a => a.Name == name) is { } attribute && attribute.Ints.SequenceEqual(values);

        static bool AbsentOr(NodeProto node, string name, Func<AttributeProto, bool> fits) =>
            node.Attribute.FirstOrDefault(a => a.Name == name) is not { } attribute || fits(attribute);

        for (var i = 0; i < nodes.Count; i++)
        {
            var conv = nodes[i];
            if (conv.OpType != "Conv" || conv.Attribute.Any(a => a.Name == Pool)
                || SoleReader(nodes, conv.Output[0], outputs) is not { OpType: "MaxPool" } pool
                || pool.Output.Skip(1).Any(o => o.Length > 0)
                || !Is(pool, "kernel_shape", 2, 2) || !Is(pool, "strides", 2, 2)
                || !AbsentOr(pool, "pads", a => a.Ints.All(p => p == 0))
                || !AbsentOr(pool, "dilations", a => a.Ints.All(d => d == 1))
                || !AbsentOr(pool, "ceil_mode", a => a.I == 0)
                || !AbsentOr(pool, "auto_pad", a => a.S.ToStringUtf8() is "NOTSET" or "VALID"))
            {
                continue;
            }

            Absorb(nodes, i, With(conv, new AttributeProto { Name = Pool, Type = AttributeProto.Types.AttributeType.Int, I = 2 }), pool);
        }
    }

    /// <summary>
    /// A MatMul by a constant matrix followed by an Add of a constant row (how exporters write a
    /// linear layer over a sequence) becomes one MatMul with the row as a third input: the product
    /// starts from the bias instead of zeros, which saves the Add's pass over the activations.
    /// </summary>
    private static void FuseMatMulBias(List<NodeProto> nodes, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var matmul = nodes[i];
            if (matmul.OpType != "MatMul" || matmul.Input.Count != 2
                || !initializers.TryGetValue(matmul.Input[1], out var w) || w is not { Type: ElementType.Float32, Rank: 2 }
                || SoleReader(nodes, matmul.Output[0], outputs) is not { OpType: "Add", Input.Count: 2 } add)
            {
                continue;
            }

            var biasName = add.Input[0] == matmul.Output[0] ? add.Input[1] : add.Input[0];
            // A row: [n], or [1, n] (which the MatMul gives back as [1, n] when its A is a vector).
            if (!initializers.TryGetValue(biasName, out var bias) || bias.Type != ElementType.Float32 || bias.Length != w.Shape[1]
                || bias.Rank is < 1 or > 2 || bias.Shape[0] != (bias.Rank == 1 ? w.Shape[1] : 1))
            {
                continue;
            }

            var fused = matmul.Clone();
            fused.Input.Add(biasName);
            Absorb(nodes, i, fused, add);
        }
    }

    /// <summary>
    /// A MatMul without a bias followed by a Mul by a constant scalar, or a Div by one (attention's
    /// 1/√d on the scores), becomes a MatMul whose product is scaled as it is finished.
    /// </summary>
    private static void FuseMatMulScale(List<NodeProto> nodes, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var matmul = nodes[i];
            if (matmul.OpType != "MatMul" || matmul.Input.Count != 2 || matmul.Attribute.Count > 0
                || SoleReader(nodes, matmul.Output[0], outputs) is not { OpType: "Mul" or "Div", Input.Count: 2 } op)
            {
                continue;
            }

            var factorName = op.Input[0] == matmul.Output[0] ? op.Input[1] : op.Input[0];
            if ((op.OpType == "Div" && op.Input[1] != factorName) || !initializers.TryGetValue(factorName, out var factor)
                || factor is not { Type: ElementType.Float32, Length: 1, Rank: 0 })
            {
                continue;
            }

            var value = op.OpType == "Mul" ? factor.Data[0] : 1f / factor.Data[0];
            if (!float.IsFinite(value))
            {
                continue;
            }

            var fused = With(matmul, new AttributeProto { Name = Scale, Type = AttributeProto.Types.AttributeType.Float, F = value });
            Absorb(nodes, i, fused, op);
        }
    }

    /// <summary>
    /// A MatMul (bias fused or not, unscaled) whose result is added to another value that is not a
    /// constant (a transformer's skip connection) takes that value as a fourth input: the product
    /// starts from it instead of zeros. Where its shape turns out not to be the product's, the MatMul
    /// adds it with broadcasting after the product (<see cref="Operators.Linear"/>).
    /// </summary>
    private static void FuseResidual(List<NodeProto> nodes, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var matmul = nodes[i];
            if (matmul.OpType != "MatMul" || matmul.Input.Count > 3 || matmul.Attribute.Count > 0
                || SoleReader(nodes, matmul.Output[0], outputs) is not { OpType: "Add", Input.Count: 2 } add
                || add.Input[0] == add.Input[1])
            {
                continue;
            }

            var residual = add.Input[0] == matmul.Output[0] ? add.Input[1] : add.Input[0];
            if (initializers.ContainsKey(residual))
            {
                continue;
            }

            var fused = matmul.Clone();
            if (fused.Input.Count == 2)
            {
                fused.Input.Add("");
            }

            // In the Add's place, not the MatMul's: the residual may be computed between the two.
            fused.Input.Add(residual);
            fused.Output[0] = add.Output[0];
            nodes[nodes.IndexOf(add)] = fused;
            nodes.RemoveAt(i);
            i--;
        }
    }

    /// <summary>Puts <paramref name="fused"/> in place of node <paramref name="at"/>, writing what <paramref name="follower"/> wrote, and removes the follower.</summary>
    private static void Absorb(List<NodeProto> nodes, int at, NodeProto fused, NodeProto follower)
    {
        fused.Output[0] = follower.Output[0];
        nodes[at] = fused;
        nodes.Remove(follower);
    }

    /// <summary>A copy of <paramref name="node"/> with one more attribute.</summary>
    private static NodeProto With(NodeProto node, AttributeProto attribute)
    {
        var copy = node.Clone();
        copy.Attribute.Add(attribute);
        return copy;
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

    /// <summary><paramref name="name"/>, numbered if need be, so that it with each suffix names no initializer yet.</summary>
    private static string Unique(Dictionary<string, Tensor> initializers, string name, params string[] suffixes)
    {
        suffixes = suffixes.Length == 0 ? [".w", ".b"] : suffixes;
        var candidate = name;
        for (var n = 2; suffixes.Any(s => initializers.ContainsKey(candidate + s)); n++)
        {
            candidate = $"{name}{n}";
        }

        return candidate;
    }
}
