using Cocoon.Agent.Inference.Graph;
namespace Cocoon.Agent.Inference.Bench;

/// <summary>A model `cocoon-agent bench` runs: its ONNX bytes, its input's name and its shape per batch size.</summary>
public sealed record ReferenceModel(string Name, byte[] Onnx, string Input, Func<int, int[]> InputShape);

/// <summary>
/// The three models the engine is measured and checked with, built with seeded weights so every agent
/// runs the same bytes: a perceptron, a small CNN (Conv, BatchNorm, ReLU, pools, Gemm) and a
/// transformer encoder block (LayerNorm, multi-head attention through Reshape/Transpose/MatMul/Softmax,
/// an Erf-based GELU feed-forward), exported the way opset-17 exporters write them.
/// </summary>
public static class ReferenceModels
{
    public static IReadOnlyList<ReferenceModel> All { get; } = [Mlp(), Cnn(), Transformer()];

    /// <summary>[batch, 256] → 512 → 512 → 10, ReLU between, Softmax at the end (about 0.4 MFLOP a row).</summary>
    public static ReferenceModel Mlp()
    {
        var random = new Random(1);
        var b = new OnnxGraphBuilder(17).Input("x", "batch", 256).AnyOutput("y");
        Dense(b, random, "x", "h1", 256, 512, relu: true, "l1");
        Dense(b, random, "h1", "h2", 512, 512, relu: true, "l2");
        Dense(b, random, "h2", "logits", 512, 10, relu: false, "l3");
        b.Node("Softmax", ["logits"], "y", ("axis", -1L));
        return new ReferenceModel("mlp", b.Build(), "x", batch => [batch, 256]);
    }

    /// <summary>[batch, 3, 32, 32] through three Conv-BN-ReLU stages (two max-pooled), global pooling and a 64→10 Gemm.</summary>
    public static ReferenceModel Cnn()
    {
        var random = new Random(2);
        var b = new OnnxGraphBuilder(17).Input("image", "batch", 3, 32, 32).AnyOutput("logits");
        var x = "image";
        var channels = 3;
        foreach (var (stage, filters, pool) in new[] { (1, 16, true), (2, 32, true), (3, 64, false) })
        {
            b.Initializer($"c{stage}.w", [filters, channels, 3, 3], Values(random, filters * channels * 9, MathF.Sqrt(2f / (channels * 9))))
                .Initializer($"c{stage}.b", [filters], Values(random, filters, 0.1f))
                .Initializer($"bn{stage}.scale", [filters], [.. Values(random, filters, 0.2f).Select(v => 1 + v)])
                .Initializer($"bn{stage}.bias", [filters], Values(random, filters, 0.1f))
                .Initializer($"bn{stage}.mean", [filters], Values(random, filters, 0.1f))
                .Initializer($"bn{stage}.var", [filters], [.. Values(random, filters, 0.2f).Select(v => 1 + Math.Abs(v))])
                .Node("Conv", [x, $"c{stage}.w", $"c{stage}.b"], $"conv{stage}", ("pads", new long[] { 1, 1, 1, 1 }))
                .Node("BatchNormalization", [$"conv{stage}", $"bn{stage}.scale", $"bn{stage}.bias", $"bn{stage}.mean", $"bn{stage}.var"], $"bn{stage}")
                .Node("Relu", [$"bn{stage}"], $"relu{stage}");
            x = $"relu{stage}";
            if (pool)
            {
                b.Node("MaxPool", [x], $"pool{stage}", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
                x = $"pool{stage}";
            }

            channels = filters;
        }

        b.Node("GlobalAveragePool", [x], "gap").Node("Flatten", ["gap"], "flat")
            .Initializer("fc.w", [10, 64], Values(random, 640, 0.15f)).Initializer("fc.b", [10], Values(random, 10, 0.1f))
            .Node("Gemm", ["flat", "fc.w", "fc.b"], "logits", ("transB", 1L));
        return new ReferenceModel("cnn", b.Build(), "image", batch => [batch, 3, 32, 32]);
    }

    /// <summary>One pre-norm encoder block: [batch, 64, 256], 4 heads of 64, feed-forward 1024 (about 85 MFLOP a sequence).</summary>
    public static ReferenceModel Transformer(int sequence = 64, int width = 256, int heads = 4, int hidden = 1024)
    {
        var random = new Random(3);
        var head = width / heads;
        var b = new OnnxGraphBuilder(17).Input("x", "batch", sequence, width).AnyOutput("y")
            .Initializer("ln1.g", [width], [.. Values(random, width, 0.1f).Select(v => 1 + v)]).Initializer("ln1.b", [width], Values(random, width, 0.1f))
            .Initializer("ln2.g", [width], [.. Values(random, width, 0.1f).Select(v => 1 + v)]).Initializer("ln2.b", [width], Values(random, width, 0.1f))
            .Longs("split_heads", [4], [0, 0, heads, head]).Longs("merge_heads", [3], [0, 0, width])
            .Initializer("scale", [], [1f / MathF.Sqrt(head)])
            .Initializer("sqrt2", [], [MathF.Sqrt(2f)]).Initializer("one", [], [1f]).Initializer("half", [], [0.5f])
            .Node("LayerNormalization", ["x", "ln1.g", "ln1.b"], "n1", ("axis", -1L));
        foreach (var name in new[] { "q", "k", "v" })
        {
            Linear(b, random, "n1", name, width, width);
            b.Node("Reshape", [name, "split_heads"], $"{name}4");
        }

        b.Node("Transpose", ["q4"], "qh", ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Transpose", ["k4"], "kt", ("perm", new long[] { 0, 2, 3, 1 }))
            .Node("Transpose", ["v4"], "vh", ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("MatMul", ["qh", "kt"], "scores").Node("Mul", ["scores", "scale"], "scaled")
            .Node("Softmax", ["scaled"], "attention", ("axis", -1L))
            .Node("MatMul", ["attention", "vh"], "context").Node("Transpose", ["context"], "ctx", ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Reshape", ["ctx", "merge_heads"], "merged");
        Linear(b, random, "merged", "attn_out", width, width);
        b.Node("Add", ["x", "attn_out"], "r1").Node("LayerNormalization", ["r1", "ln2.g", "ln2.b"], "n2", ("axis", -1L));
        Linear(b, random, "n2", "ff1", width, hidden);
        b.Node("Div", ["ff1", "sqrt2"], "g1").Node("Erf", ["g1"], "g2").Node("Add", ["g2", "one"], "g3")
            .Node("Mul", ["ff1", "g3"], "g4").Node("Mul", ["g4", "half"], "gelu");
        Linear(b, random, "gelu", "ff2", hidden, width);
        b.Node("Add", ["r1", "ff2"], "y");
        return new ReferenceModel("transformer", b.Build(), "x", batch => [batch, sequence, width]);
    }

    /// <summary>Seeded values uniform in ±<paramref name="scale"/>.</summary>
    public static float[] Values(Random random, int count, float scale)
    {
        ArgumentNullException.ThrowIfNull(random);
        return [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1) * scale)];
    }

    private static void Dense(OnnxGraphBuilder b, Random random, string input, string output, int inputs, int outputs, bool relu, string name)
    {
        b.Initializer($"{name}.w", [inputs, outputs], Values(random, inputs * outputs, MathF.Sqrt(2f / inputs)))
            .Initializer($"{name}.b", [outputs], Values(random, outputs, 0.05f))
            .Node("Gemm", [input, $"{name}.w", $"{name}.b"], relu ? $"{name}.z" : output);
        if (relu)
        {
            b.Node("Relu", [$"{name}.z"], output);
        }
    }

    private static void Linear(OnnxGraphBuilder b, Random random, string input, string output, int inputs, int outputs) =>
        b.Initializer($"{output}.w", [inputs, outputs], Values(random, inputs * outputs, MathF.Sqrt(1f / inputs)))
            .Initializer($"{output}.b", [outputs], Values(random, outputs, 0.02f))
            .Node("MatMul", [input, $"{output}.w"], $"{output}.mm")
            .Node("Add", [$"{output}.mm", $"{output}.b"], output);
}
