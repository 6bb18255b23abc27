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

    /// <summary>Whether <paramref name="node"/> is a Conv with a 2×2 max pool folded in (<see cref="Pool"/>).</summary>
    public static bool Pooled(NodeProto node) => node.Attribute.Any(a => a.Name == Pool && a.I == 2);

    public static List<NodeProto> Fuse(List<NodeProto> order, Dictionary<string, Tensor> initializers, IReadOnlyCollection<string> outputs)
    {
        var nodes = new List<NodeProto>(order);
        FoldBatchNormalization(nodes, initializers, outputs);
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
