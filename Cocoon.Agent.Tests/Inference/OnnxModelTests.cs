using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

public sealed class OnnxModelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(300)]
    public void An_mlp_matches_the_plain_reference(int rows)
    {
        var (bytes, reference) = TestMlp.Build(inputs: 5, hidden: 11, outputs: 3, seed: 42);
        var model = OnnxModel.Load(bytes);
        var x = Enumerable.Range(0, rows * 5).Select(i => (float)Math.Sin(i)).ToArray();

        var y = model.Run(new Dictionary<string, Tensor> { ["x"] = new([rows, 5], x) }, out var flops)["y"];

        Assert.Equal([rows, 3], y.Shape);
        AssertClose(reference(x, rows), y.Data);
        Assert.True(flops >= 2L * rows * ((5 * 11) + (11 * 3)), $"{flops} FLOPs counted");
        Assert.Equal(["x"], model.Inputs);
        Assert.Equal(["y"], model.Outputs);
    }

    [Fact]
    public void Broadcasting_softmax_and_gemm_with_transposed_operands_follow_onnx()
    {
        var model = OnnxModel.Load(new OnnxGraphBuilder()
            .Input("x", "n", 2, 3).Output("y", "n", 2, 3).Output("g", 3, 3)
            .Initializer("row", [1, 3], [1, 2, 3])
            .Initializer("a", [2, 3], [1, 2, 3, 4, 5, 6])
            .Initializer("b", [2, 3], [1, 0, 1, 0, 1, 0])
            .Node("Mul", ["x", "row"], "m")
            .Node("Softmax", ["m"], "y")
            .Node("Gemm", ["a", "b"], "g", ("transA", 1L), ("transB", 0L), ("alpha", 2f))
            .Build());
        var x = new float[] { 0, 1, 2, 3, 4, 5, -1, -2, -3, 0, 0, 0 };

        var outputs = model.Run(new Dictionary<string, Tensor> { ["x"] = new([2, 2, 3], x) });

        var y = outputs["y"].Data;
        for (var row = 0; row < 4; row++)
        {
            var m = Enumerable.Range(0, 3).Select(j => x[(row * 3) + j] * (j + 1)).ToArray();
            var e = m.Select(v => Math.Exp(v - m.Max())).ToArray();
            AssertClose([.. e.Select(v => (float)(v / e.Sum()))], y.AsSpan(row * 3, 3).ToArray());
        }

        // g = 2 · aᵀ (3×2) · b (2×3).
        Assert.Equal([3, 3], outputs["g"].Shape);
        AssertClose([2, 8, 2, 4, 10, 4, 6, 12, 6], outputs["g"].Data);
    }

    [Fact]
    public void A_model_with_unsupported_operators_is_refused_naming_every_one()
    {
        var bytes = new OnnxGraphBuilder(opset: 13)
            .Input("x", 1, 4).Output("y", 1, 4)
            .Node("Unique", ["x"], "a").Node("Relu", ["a"], "b").Node("Det", ["b"], "y")
            .Build();

        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(bytes));

        Assert.Contains("Unique (node 'unique_0')", error.Message, StringComparison.Ordinal);
        Assert.Contains("Det (node 'det_2')", error.Message, StringComparison.Ordinal);
        Assert.Contains("opset 13", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Relu", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Broken_graphs_are_refused_with_one_clear_error_each()
    {
        var cyclic = new OnnxGraphBuilder().Input("x", 1).Output("y", 1)
            .Node("Add", ["x", "b"], "a").Node("Relu", ["a"], "b").Node("Identity", ["b"], "y").Build();
        Assert.Contains("cycle", Assert.Throws<ModelException>(() => OnnxModel.Load(cyclic)).Message, StringComparison.Ordinal);

        var missing = new OnnxGraphBuilder().Input("x", 1, 2).Output("y", 1, 3).Node("MatMul", ["x", "w"], "y").Build();
        Assert.Contains("reads 'w'", Assert.Throws<ModelException>(() => OnnxModel.Load(missing)).Message, StringComparison.Ordinal);

        var badInitializer = new OnnxGraphBuilder().Input("x", 1, 2).Output("y", 1, 3).Initializer("w", [2, 3], [1, 2, 3]).Node("MatMul", ["x", "w"], "y").Build();
        Assert.Contains("needs 24", Assert.Throws<ModelException>(() => OnnxModel.Load(badInitializer)).Message, StringComparison.Ordinal);

        var (mlp, _) = TestMlp.Build(3, 4, 2, seed: 1);
        Assert.Contains("not a valid ONNX file", Assert.Throws<ModelException>(() => OnnxModel.Load(mlp.AsMemory(0, mlp.Length / 2))).Message, StringComparison.Ordinal);
        Assert.Throws<ModelException>(() => OnnxModel.Load("this is not protobuf at all"u8.ToArray()));
        using (var truncated = new MemoryStream(mlp[..(mlp.Length / 2)]))
        {
            Assert.Contains("not a valid ONNX file", Assert.Throws<ModelException>(() => OnnxModel.Load(truncated)).Message, StringComparison.Ordinal);
        }

        using (var whole = new MemoryStream(mlp))
        {
            Assert.Equal(["x"], OnnxModel.Load(whole).Inputs);
        }


        var model = OnnxModel.Load(mlp);
        var shape = Assert.Throws<ModelException>(() => model.Run(new Dictionary<string, Tensor> { ["x"] = new([2, 5], new float[10]) }));
        Assert.Contains("MatMul (node 'matmul_0'): the inner dimensions are 5 and ", shape.Message, StringComparison.Ordinal);
        Assert.Contains("must be equal", shape.Message, StringComparison.Ordinal);
        Assert.Contains("'x'", Assert.Throws<ModelException>(() => model.Run(new Dictionary<string, Tensor>())).Message, StringComparison.Ordinal);
    }

    /// <summary>Shapes that can never fit, found by shape inference at load: one error naming the node and the shapes, before any run.</summary>
    [Theory]
    [InlineData("matmul")]
    [InlineData("broadcast")]
    [InlineData("concat")]
    [InlineData("conv")]
    [InlineData("reshape")]
    [InlineData("gemm")]
    public void Shapes_that_cannot_fit_are_refused_at_load(string kind)
    {
        var b = new OnnxGraphBuilder(17).AnyOutput("y");
        _ = kind switch
        {
            "matmul" => b.Input("x", "batch", 256).Initializer("w1", [256, 512], new float[256 * 512]).Initializer("w2", [256, 10], new float[2560])
                .Node("MatMul", ["x", "w1"], "h").Node("MatMul", ["h", "w2"], "y"),
            "broadcast" => b.Input("x", "batch", 3).Initializer("c", [4], new float[4]).Node("Add", ["x", "c"], "y"),
            "concat" => b.Input("x", "batch", 3, 5).Initializer("c", [1, 4, 6], new float[24]).Node("Concat", ["x", "c"], "y", ("axis", 2L)),
            "conv" => b.Input("x", "batch", 3, 8, 8).Initializer("w", [4, 2, 3, 3], new float[72]).Node("Conv", ["x", "w"], "y"),
            "reshape" => b.Input("x", "batch", 3, 5).Longs("s", [2], [4, -1]).Node("Flatten", ["x"], "f", ("axis", 1L))
                .Node("Reshape", ["f", "s"], "r").Node("Reshape", ["x", "t"], "y").Longs("t", [3], [0, 4, 4]),
            _ => b.Input("x", "batch", 6).Initializer("w", [5, 6], new float[30]).Node("Gemm", ["x", "w"], "y"),
        };
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(b.Build()));
        var op = kind switch { "matmul" => "MatMul", "broadcast" => "Add", "concat" => "Concat", "conv" => "Conv", "reshape" => "Reshape", _ => "Gemm" };
        Assert.StartsWith($"{op} (node '", error.Message, StringComparison.Ordinal);
        Assert.Contains("shapes known at load", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The reference models' values are all inferred at load in terms of the batch dimension.</summary>
    [Fact]
    public void Every_value_of_the_reference_models_has_a_shape_at_load()
    {
        foreach (var reference in ReferenceModels.All)
        {
            var model = OnnxModel.Load(reference.Onnx);
            var expected = reference.Name switch { "mlp" => "[batch, 10]", "cnn" => "[batch, 10]", _ => "[batch, 64, 256]" };
            Assert.Equal(expected, model.InferredShape(model.Outputs[0]));
            var feeds = new Dictionary<string, Tensor> { [reference.Input] = new(reference.InputShape(3), new float[Tensor.ElementCount(reference.InputShape(3))]) };
            OrtReference.RunCheckingInferredShapes(model, feeds);
            var seen = new List<string>();
            model.Observe = (name, _) => seen.Add(name);
            model.Run(feeds);
            Assert.NotEmpty(seen);
            Assert.All(seen, name => Assert.DoesNotContain("?", model.InferredShape(name), StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Values_are_dropped_after_their_last_reader_so_peak_memory_is_the_live_set()
    {
        // x → ten ReLU-like nodes in a chain → y: summed, twelve 4 MB tensors; alive at once, at most three.
        var model = OnnxModel.Load(MemoryPlanTests.ReluChain(10));
        var x = new Tensor([1000, 1000], Enumerable.Range(0, 1_000_000).Select(i => (float)Math.Sin(i)).ToArray());

        var y = model.Run(new Dictionary<string, Tensor> { ["x"] = x }, out _, out var peak)["y"];

        Assert.True(peak <= 3 * 4_000_000L, $"peak live bytes {peak:N0}");
        Assert.True(peak >= 2 * 4_000_000L, $"peak live bytes {peak:N0}");
        Assert.Equal(x.Data.Select(v => Math.Max(v, 0f)), y.Data);
    }

    [Fact]
    public void Dead_activations_are_reused_by_later_runs_without_touching_outputs_already_returned()
    {
        // x → Relu → LeakyRelu → LeakyRelu → Relu → y, 4 MB each: the middle values die inside the run
        // (α = 1, the identity; an attribute keeps each a node of its own rather than one fused chain).
        // Negative inputs give zeros, positive ones give themselves back.
        var model = OnnxModel.Load(new OnnxGraphBuilder().Input("x", 1000, 1000).Output("y", 1000, 1000)
            .Node("Relu", ["x"], "a").Node("LeakyRelu", ["a"], "b", ("alpha", 1f)).Node("LeakyRelu", ["b"], "c", ("alpha", 1f)).Node("Relu", ["c"], "y").Build());
        Tensor Input(float sign) => new([1000, 1000], [.. Enumerable.Range(0, 1_000_000).Select(i => sign * (1 + (i % 7)))]);

        var first = model.Run(new Dictionary<string, Tensor> { ["x"] = Input(-1) })["y"];
        var firstCopy = (float[])first.Data.Clone();
        model.Run(new Dictionary<string, Tensor> { ["x"] = Input(-1) });
        var before = GC.GetAllocatedBytesForCurrentThread();
        var third = model.Run(new Dictionary<string, Tensor> { ["x"] = Input(1) })["y"];
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Input 4 MB + output 4 MB are new; the three intermediates come from the pool.
        Assert.True(allocated < 3 * 4_000_000L, $"a warm run allocated {allocated:N0} bytes");
        Assert.Equal(firstCopy, first.Data);
        Assert.All(first.Data, v => Assert.Equal(0f, v));
        Assert.Equal(Input(1).Data, third.Data);
        Assert.NotSame(first.Data, third.Data);
    }

    [Fact]
    public void Constant_subgraphs_and_shapes_of_fixed_inputs_fold_at_load()
    {
        // A PyTorch-style export: the weight is transposed by a node, and the Reshape target is computed
        // from Shape(x) → Gather → Unsqueeze → Concat. With x's shape fixed, all of it folds.
        var model = OnnxModel.Load(new OnnxGraphBuilder(17).Input("x", 6, 4).AnyOutput("y")
            .Initializer("wt", [3, 4], [.. Enumerable.Range(0, 12).Select(i => (float)i)])
            .Longs("zero", [], [0]).Longs("minus1", [1], [-1]).Longs("axes", [1], [0])
            .Node("Transpose", ["wt"], "w", ("perm", new long[] { 1, 0 }))
            .Node("MatMul", ["x", "w"], "h")
            .Node("Shape", ["x"], "s").Node("Gather", ["s", "zero"], "rows").Node("Unsqueeze", ["rows", "axes"], "rows1")
            .Node("Concat", ["rows1", "minus1"], "target", ("axis", 0L))
            .Node("Reshape", ["h", "target"], "y").Build());
        var x = new Tensor([6, 4], [.. Enumerable.Range(0, 24).Select(i => (float)(i % 5))]);

        var profile = new OperatorProfile();
        var y = model.Run(new Dictionary<string, Tensor> { ["x"] = x }, null, out var flops, out _, profile)["y"];

        Assert.Equal(["MatMul", "Reshape"], profile.Entries.Select(e => e.Operator).Order());
        Assert.Equal((2L * 6 * 4 * 3) + 18, flops); // the product, and one per element Reshape writes; nothing for what folded

        Assert.Equal([6, 3], y.Shape);
        Assert.Equal(Enumerable.Range(0, 4).Sum(k => (k % 5) * (float)((2 * 4) + k)), y.Data[2]);

        // The folded Reshape target came from x's declared shape, so another shape is refused, not mis-shaped.
        var other = Assert.Throws<ModelException>(() => model.Run(new Dictionary<string, Tensor> { ["x"] = new([2, 4], new float[8]) }));
        Assert.Contains("Input 'x' has shape [2, 4]; the model declares [6, 4]", other.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Arrays_an_operator_uses_inside_itself_are_not_kept_from_one_run_to_the_next()
    {
        // Gemm with a [rows, 1] bias: the product is an array of Gemm's own, 4 MB, that never becomes a value.
        var model = OnnxModel.Load(new OnnxGraphBuilder().Input("x", 1000, 8).AnyOutput("y")
            .Initializer("w", [8, 1000], new float[8000]).Initializer("c", [1000, 1], new float[1000])
            .Node("Gemm", ["x", "w", "c"], "y").Build());
        var feeds = new Dictionary<string, Tensor> { ["x"] = new([1000, 8], new float[8000]) };
        model.Run(feeds);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 50; i++)
        {
            model.Run(feeds);
        }

        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(retained < 40_000_000, $"{retained:N0} bytes retained after 50 runs (200 MB were made)");
    }

    [Fact]
    public void Batch_norms_relus_and_pools_fold_into_convolutions_only_where_nothing_else_reads_between()
    {
        var cnn = ReferenceModels.Cnn();
        var model = OnnxModel.Load(cnn.Onnx);
        var feeds = new Dictionary<string, Tensor> { [cnn.Input] = new(cnn.InputShape(2), ReferenceModels.Values(new Random(4), 2 * 3 * 32 * 32, 1f)) };
        var profile = new OperatorProfile();
        model.Run(feeds, null, out var flops, out _, profile);

        // Three Conv-BN-ReLU stages, the first two max-pooled: three Conv nodes do all of it.
        Assert.Equal(["Conv", "Flatten", "Gemm", "GlobalAveragePool"], profile.Entries.Select(e => e.Operator).Order());
        Assert.Equal(3, profile.Entries.Single(e => e.Operator == "Conv").Nodes);
        Assert.Equal("[batch, 16, 16, 16]", model.InferredShape("pool1"));

        // Billed as the convolutions at full size and the pools' outputs, as unfused nodes would be.
        long[] convolutions = [2L * 16 * 32 * 32 * 27, 2L * 32 * 16 * 16 * 144, 2L * 64 * 8 * 8 * 288];
        long[] pools = [16 * 16 * 16, 32 * 8 * 8];
        Assert.Equal(2 * (convolutions.Sum() + pools.Sum() + 64 + 64 + (2 * 64 * 10)), flops);

        // The convolution's output is also a graph output: nothing may fold past it.
        var random = new Random(8);
        var builder = new OnnxGraphBuilder(17).Input("x", 1, 2, 5, 5).AnyOutput("c").AnyOutput("y")
            .Initializer("w", [3, 2, 3, 3], ReferenceModels.Values(random, 54, 0.5f))
            .Initializer("s", [3], [1.5f, 0.5f, 2f]).Initializer("b", [3], [0.1f, -0.2f, 0.3f]).Initializer("m", [3], [0.2f, 0f, -0.1f]).Initializer("v", [3], [1f, 2f, 0.5f])
            .Node("Conv", ["x", "w"], "c").Node("BatchNormalization", ["c", "s", "b", "m", "v"], "n").Node("Relu", ["n"], "y");
        var kept = OnnxModel.Load(builder.Build());
        var keptProfile = new OperatorProfile();
        kept.Run(new Dictionary<string, Tensor> { ["x"] = new([1, 2, 5, 5], ReferenceModels.Values(random, 50, 1f)) }, null, out _, out _, keptProfile);
        Assert.Equal(["Conv", "ElementwiseChain"], keptProfile.Entries.Select(e => e.Operator).Order()); // the batch norm and its ReLU, in one pass
    }

    /// <summary>
    /// A 2×2 / 2 max pool folds into the Conv before it only in the form the fused kernels take (no
    /// padding, dilation, ceil mode or indices) and where nothing else reads the convolution; the
    /// fused node runs both on the direct kernel (odd sizes, whose last row and column the pool drops)
    /// and through im2col (a strided convolution).
    /// </summary>
    [Fact]
    public void Max_pools_fold_into_convolutions_only_in_the_form_the_kernels_take()
    {
        var random = new Random(31);
        var builder = new OnnxGraphBuilder(17).Input("x", 2, 3, 12, 16).Input("s", 2, 3, 12, 13)
            .Initializer("w", [8, 3, 3, 3], ReferenceModels.Values(random, 216, 0.5f)).Initializer("b", [8], ReferenceModels.Values(random, 8, 0.5f));
        string[] fused = ["direct", "strided"], kept = ["padded", "ceil", "read twice", "three by three"];
        // 11 × 16 outputs: the direct kernel, and an odd last row the pool drops.
        builder.Node("Conv", ["x", "w", "b"], "c1", ("pads", new long[] { 1, 1, 0, 1 })).Node("Relu", ["c1"], "r1")
            .Node("MaxPool", ["r1"], "direct", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
            .Node("Conv", ["s", "w"], "c2", ("strides", new long[] { 1, 2 }))
            .Node("MaxPool", ["c2"], "strided", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 0, 0, 0, 0 }))
            .Node("Conv", ["x", "w"], "c3").Node("MaxPool", ["c3"], "padded", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 0, 0 }))
            .Node("Conv", ["x", "w"], "c4").Node("MaxPool", ["c4"], "ceil", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1L))
            .Node("Conv", ["x", "w"], "c5").Node("MaxPool", ["c5"], "read twice", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 })).Node("Neg", ["c5"], "negated")
            .Node("Conv", ["x", "w"], "c6").Node("MaxPool", ["c6"], "three by three", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }));
        foreach (var output in fused.Concat(kept).Append("negated"))
        {
            builder.AnyOutput(output);
        }

        var bytes = builder.Build();
        var profile = new OperatorProfile();
        var feeds = Feeds(("x", RandomTensor(random, [2, 3, 12, 16], -1, 1)), ("s", RandomTensor(random, [2, 3, 12, 13], -1, 1)));
        OnnxModel.Load(bytes).Run(feeds, null, out _, out _, profile);
        Assert.Equal(6, profile.Entries.Single(e => e.Operator == "Conv").Nodes);
        Assert.Equal(kept.Length, profile.Entries.Single(e => e.Operator == "MaxPool").Nodes);
        OrtReference.AssertSame(bytes, feeds);
    }

    [Fact]
    public void The_linear_layers_of_an_export_run_as_matmuls_with_their_bias_and_gelu_inside()
    {
        var transformer = ReferenceModels.Transformer(sequence: 8, width: 16, heads: 2, hidden: 32);
        var model = OnnxModel.Load(transformer.Onnx);
        var feeds = new Dictionary<string, Tensor> { [transformer.Input] = new(transformer.InputShape(2), ReferenceModels.Values(new Random(5), 2 * 8 * 16, 1f)) };
        var profile = new OperatorProfile();
        model.Run(feeds, null, out _, out _, profile);

        // Six linear layers and the two attention products; the five-node GELU went into the first
        // feed-forward MatMul, each bias Add and both residual Adds into their MatMuls, the attention
        // scale into the scores' MatMul.
        Assert.Equal(8, profile.Entries.Single(e => e.Operator == "MatMul").Nodes);
        Assert.DoesNotContain(profile.Entries, e => e.Operator is "Erf" or "Div" or "Gelu" or "Add" or "Mul");
        OrtReference.AssertSame(transformer.Onnx, feeds);
    }

    /// <summary>
    /// Bias and activation fusion on the shapes it must respect: the bias as either operand of the Add,
    /// as [n] or [1, n], a vector times a matrix (the [1, n] bias makes the output [1, n]), a Gemm and a
    /// MatMul followed by Gelu or Relu, and a product whose raw value is also read elsewhere (no fusion).
    /// </summary>
    [Fact]
    public void Fused_biases_and_activations_match_onnx_runtime()
    {
        var random = new Random(21);
        var model = new OnnxGraphBuilder(20).Input("x", 3, 5, 24).Input("v", 24).AnyOutput("a").AnyOutput("b").AnyOutput("c").AnyOutput("d").AnyOutput("e").AnyOutput("f")
            .Initializer("w", [24, 37], ReferenceModels.Values(random, 24 * 37, 0.3f))
            .Initializer("row", [37], ReferenceModels.Values(random, 37, 0.5f))
            .Initializer("row2", [1, 37], ReferenceModels.Values(random, 37, 0.5f))
            .Initializer("g", [37, 24], ReferenceModels.Values(random, 37 * 24, 0.3f))
            .Node("MatMul", ["x", "w"], "xw").Node("Add", ["row", "xw"], "xwb").Node("Gelu", ["xwb"], "a")
            .Node("MatMul", ["v", "w"], "vw").Node("Add", ["vw", "row2"], "b")
            .Node("MatMul", ["x", "w"], "raw").Node("Add", ["raw", "row"], "c").Node("Relu", ["raw"], "d")
            .Node("Flatten", ["x"], "flat", ("axis", 2L)).Node("Reshape", ["flat", "shape"], "m")
            .Longs("shape", [2], [15, 24])
            .Node("Gemm", ["m", "w", "row"], "gm").Node("Gelu", ["gm"], "e")
            .Node("MatMul", ["a", "g"], "ag").Node("Relu", ["ag"], "f")
            .AnyOutput("s1").AnyOutput("s2").AnyOutput("r1").AnyOutput("r2").AnyOutput("r3")
            .Initializer("two", [], [2f]).Initializer("wt", [37, 5], ReferenceModels.Values(random, 37 * 5, 0.3f))
            .Node("Transpose", ["a"], "at", ("perm", new long[] { 0, 2, 1 })).Node("MatMul", ["a", "at"], "aa").Node("Div", ["aa", "two"], "s1")
            .Node("MatMul", ["at", "a"], "ta").Node("Mul", ["two", "ta"], "s2")
            // A residual computed after the product it is added to; one whose shape broadcasts; one followed by Relu.
            .Node("MatMul", ["x", "w"], "late").Node("Sigmoid", ["c"], "skip").Node("Add", ["late", "skip"], "r1")
            .Node("MatMul", ["x", "w"], "wide").Node("Add", ["v37", "wide"], "r2").Node("Slice", ["c", "s0", "s1e", "s2a"], "v37")
            .Longs("s0", [1], [0]).Longs("s1e", [1], [1]).Longs("s2a", [1], [1])
            .Node("MatMul", ["a", "wt"], "narrow").Node("Add", ["narrow", "x5"], "sum5").Node("Relu", ["sum5"], "r3")
            .Node("Slice", ["x", "s0", "five", "two2"], "x5").Longs("five", [1], [5]).Longs("two2", [1], [2])
            .Build();
        var feeds = Feeds(("x", new Tensor([3, 5, 24], ReferenceModels.Values(random, 360, 2f))), ("v", new Tensor([24], ReferenceModels.Values(random, 24, 2f))));
        OrtReference.AssertSame(model, feeds);

        var profile = new OperatorProfile();
        OnnxModel.Load(model).Run(feeds, null, out _, out _, profile);
        Assert.Equal(["Add", "Flatten", "Gemm", "MatMul", "Relu", "Reshape", "Sigmoid", "Slice", "Transpose"], profile.Entries.Select(e => e.Operator).Order());
        Assert.Equal(1, profile.Entries.Single(e => e.Operator == "Add").Nodes); // c: its product is also read by the Relu of d
        Assert.Equal(1, profile.Entries.Single(e => e.Operator == "Relu").Nodes);
    }

    public static TheoryData<string> FuzzedModels => new() { "mlp", "cnn", "transformer" };

    /// <summary>
    /// Mutated model bytes (flips aimed mostly at structure rather than weights) either
    /// load and run or fail with a <see cref="ModelException"/>: never another exception, a crash, or
    /// an allocation past the tensor size limit.
    /// </summary>
    [Theory]
    [MemberData(nameof(FuzzedModels))]
    public void Mutated_model_bytes_fail_only_with_a_model_error(string name)
    {
        var (bytes, input) = name switch
        {
            "mlp" => (TestMlp.Build(4, 6, 2, seed: 9).Model, new Tensor([3, 4], new float[12])),
            "cnn" => (ReferenceModels.Cnn().Onnx, new Tensor([1, 3, 32, 32], new float[3 * 32 * 32])),
            _ => (ReferenceModels.Transformer(sequence: 3, width: 8, heads: 2, hidden: 16).Onnx, new Tensor([2, 3, 8], new float[48])),
        };
        var random = new Random(2026);
        var structural = bytes.Length > 20_000 ? 4000 : bytes.Length;
        var (ran, refused) = (0, 0);
        for (var i = 0; i < 1500; i++)
        {
            var mutated = (byte[])bytes.Clone();
            for (var flips = random.Next(1, 6); flips > 0; flips--)
            {
                // Aim most flips at structure: protobuf writes a graph's nodes before its initializers, and the
                // graph's inputs, outputs and the opset imports after them.
                var at = random.Next(3) switch
                {
                    0 => random.Next(mutated.Length),
                    1 => random.Next(structural),
                    _ => mutated.Length - 1 - random.Next(Math.Min(structural, 600)),
                };
                mutated[at] = (byte)random.Next(256);
            }

            try
            {
                var length = random.Next(4) == 0 ? random.Next(mutated.Length / 2, mutated.Length) : mutated.Length;
                var model = OnnxModel.Load(mutated.AsMemory(0, length));
                model.Run(new Dictionary<string, Tensor> { [model.Inputs[0]] = input });
                ran++;
            }
            catch (ModelException)
            {
                // The only acceptable failure.
                refused++;
            }
        }

        // Both outcomes are common, so the fuzzer reaches execution and not only the parser.
        Assert.True(ran > 50 && refused > 50, $"{ran} ran, {refused} refused");
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double error = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            error += Math.Pow(expected[i] - actual[i], 2);
            norm += Math.Pow(expected[i], 2);
        }

        Assert.True(Math.Sqrt(error) <= 1e-5 * Math.Max(Math.Sqrt(norm), 1e-30), $"relative L2 error {Math.Sqrt(error / Math.Max(norm, 1e-30))}");
    }
}
