using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Operators;
using Google.Protobuf;
using Onnx;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Chains of element-wise nodes fused into one pass, and per-channel scales and shifts folded into the
/// convolution before them, each against ONNX Runtime running the unfused graph (and against the planned
/// run and ILGPU's kernels): every operand layout the fused pass takes (one value, one per channel, a
/// row, the whole shape), the ones it hands back to the nodes' own kernels (axes that are not adjacent,
/// an operand that widens the value, integers), and models that try to name the fused operator themselves.
/// </summary>
public sealed class ElementwiseChainTests
{
    private static int[] Operators(OnnxModel model, IReadOnlyDictionary<string, Tensor> feeds, string op)
    {
        var profile = new OperatorProfile();
        model.Run(feeds, null, out _, out _, profile);
        return [.. profile.Entries.Where(e => e.Operator == op).Select(e => e.Nodes)];
    }

    /// <summary>
    /// DenseNet's layer after a Concat: batch norm, a per-channel scale and shift, ReLU; then the operand
    /// layouts one by one, with the flowing value on either side of Sub, Div and Pow.
    /// </summary>
    [Theory]
    [InlineData(new[] { 2, 6, 5, 7 }, new[] { 6, 1, 1 })] // one value per channel: constant over runs of 35
    [InlineData(new[] { 2, 6, 5, 32 }, new[] { 32 })] // one value per column: a contiguous slice
    [InlineData(new[] { 2, 6, 5, 7 }, new[] { 1 })] // one value
    [InlineData(new[] { 2, 6, 5, 7 }, new[] { 2, 6, 5, 7 })] // the whole shape
    [InlineData(new[] { 2, 6, 5, 7 }, new[] { 6, 1, 7 })] // axes 1 and 3: not adjacent, run node by node
    [InlineData(new[] { 3, 4, 20, 20 }, new[] { 3, 4, 1, 1 })] // axes 0 and 1 together: one value per plane
    public void A_chain_matches_its_unfused_nodes_for_each_operand_layout(int[] shape, int[] operand)
    {
        var random = new Random(shape.Sum() + operand.Sum());
        var channels = shape[1];
        var count = operand.Aggregate(1, (a, b) => a * b);
        float[] Positive(int n) => [.. RandomTensor(random, [n], 0.5f, 2f).Data];
        var builder = new OnnxGraphBuilder(17).Input("a", [.. shape.Cast<object>()]).Input("b", [.. shape.Cast<object>()]).Output("y", [.. shape.Cast<object>()])
            .Initializer("s", [channels], Positive(channels)).Initializer("bb", [channels], RandomTensor(random, [channels], -1, 1).Data)
            .Initializer("m", [channels], RandomTensor(random, [channels], -1, 1).Data).Initializer("v", [channels], Positive(channels))
            .Initializer("k", operand, Positive(count)).Initializer("two", [], [2f]).Initializer("half", [1], [0.5f])
            .Node("Concat", ["a", "b"], "c", ("axis", 0L))
            .Node("Slice", ["c", "starts", "ends"], "x")
            .Longs("starts", [1], [0]).Longs("ends", [1], [shape[0]])
            .Node("BatchNormalization", ["x", "s", "bb", "m", "v"], "n")
            .Node("Mul", ["n", "k"], "n1")
            .Node("Sub", ["k", "n1"], "n2")
            .Node("Relu", ["n2"], "n3")
            .Node("Add", ["n3", "half"], "n4")
            .Node("Div", ["k", "n4"], "n5")
            .Node("Pow", ["n5", "two"], "n6")
            .Node("Sqrt", ["n6"], "n7")
            .Node("Max", ["n7", "k"], "n8")
            .Node("Min", ["half", "n8"], "n9")
            .Node("Sum", ["n9", "b"], "n10")
            .Node("Tanh", ["n10"], "y");
        var model = builder.Build();
        var feeds = Feeds(("a", RandomTensor(random, shape, -2, 2)), ("b", RandomTensor(random, shape, -2, 2)));

        OrtReference.AssertSame(model, feeds);
        Assert.Equal([1], Operators(OnnxModel.Load(model), feeds, "ElementwiseChain"));
        Assert.Empty(Operators(OnnxModel.Load(model), feeds, "BatchNormalization"));
    }

    /// <summary>A residual Add of two computed values and its ReLU (ResNet's every block), and an operand wider than the flowing value (the chain then broadcasts as its nodes did).</summary>
    [Fact]
    public void Residuals_and_widening_operands_keep_their_meaning()
    {
        var random = new Random(5);
        var model = new OnnxGraphBuilder(17).Input("x", 2, 3, 4, 5).Input("r", 2, 3, 4, 5).Input("small", 3, 1, 1).AnyOutput("y").AnyOutput("z")
            .Node("Exp", ["x"], "e").Node("Add", ["e", "r"], "s").Node("Relu", ["s"], "y")
            .Node("Neg", ["small"], "ns").Node("Add", ["ns", "x"], "w").Node("Abs", ["w"], "z")
            .Build();
        var feeds = Feeds(("x", RandomTensor(random, [2, 3, 4, 5], -2, 2)), ("r", RandomTensor(random, [2, 3, 4, 5], -2, 2)), ("small", RandomTensor(random, [3, 1, 1], -2, 2)));

        OrtReference.AssertSame(model, feeds);
        Assert.Equal([2], Operators(OnnxModel.Load(model), feeds, "ElementwiseChain"));
    }

    /// <summary>Integer arithmetic chains too (shape arithmetic on a computed shape), through the integer kernels.</summary>
    [Fact]
    public void Integer_chains_run_through_the_integer_kernels()
    {
        var model = new OnnxGraphBuilder(17).Input("x", 2, 3, 4).Typed("i", 7, 4).Output("y", 2, 3, 4)
            .Longs("two", [], [2]).Longs("one", [], [1])
            .Node("Mul", ["i", "two"], "i2").Node("Sub", ["i2", "one"], "i3").Node("Mul", ["i3", "i3"], "i4")
            .Node("Cast", ["i4"], "f", ("to", 1L)).Node("Add", ["x", "f"], "y")
            .Build();
        var feeds = Feeds(("x", RandomTensor(new Random(2), [2, 3, 4], -1, 1)), ("i", Tensor.OfLongs([4], [4, -7, 0, 1])));

        OrtReference.AssertSame(model, feeds);
        Assert.Equal([1], Operators(OnnxModel.Load(model), feeds, "ElementwiseChain"));
    }

    /// <summary>
    /// A value another node also reads, or that is a graph output, ends the chain there: fusing past it
    /// would lose the value.
    /// </summary>
    [Fact]
    public void A_chain_ends_at_a_value_read_elsewhere()
    {
        var model = new OnnxGraphBuilder(17).Input("x", 4, 8).AnyOutput("y").AnyOutput("mid").AnyOutput("z")
            .Node("Relu", ["x"], "r").Node("Neg", ["r"], "mid").Node("Exp", ["mid"], "y")
            .Node("Sigmoid", ["r"], "z")
            .Build();
        var feeds = Feeds(("x", RandomTensor(new Random(3), [4, 8], -2, 2)));

        OrtReference.AssertSame(model, feeds);
        Assert.Empty(Operators(OnnxModel.Load(model), feeds, "ElementwiseChain"));
    }

    /// <summary>
    /// Mul and Add by per-filter constants after a Conv (Caffe2's scale and shift after each batch norm)
    /// become the Conv's weights and bias, and the ReLU after them joins the Conv too; an operand that
    /// varies along the image is not a per-filter constant and stays a node.
    /// </summary>
    [Fact]
    public void Per_filter_scales_and_shifts_fold_into_the_convolution()
    {
        var random = new Random(11);
        byte[] Model(int[] scaleShape) => new OnnxGraphBuilder(17).Input("x", 2, 3, 9, 9).Output("y", 2, 4, 7, 7)
            .Initializer("w", [4, 3, 3, 3], RandomTensor(random, [4, 3, 3, 3], -1, 1).Data).Initializer("b", [4], RandomTensor(random, [4], -1, 1).Data)
            .Initializer("k", scaleShape, RandomTensor(random, scaleShape, 0.5f, 2f).Data).Initializer("t", [1, 4, 1, 1], RandomTensor(random, [4], -1, 1).Data)
            .Initializer("d", [], [4f])
            .Node("Conv", ["x", "w", "b"], "c").Node("Mul", ["c", "k"], "m").Node("Div", ["m", "d"], "q").Node("Add", ["q", "t"], "a").Node("Sub", ["a", "d"], "s").Node("Relu", ["s"], "y")
            .Build();
        var feeds = Feeds(("x", RandomTensor(random, [2, 3, 9, 9], -1, 1)));

        var folded = Model([4, 1, 1]);
        OrtReference.AssertSame(folded, feeds);
        var profile = new OperatorProfile();
        OnnxModel.Load(folded).Run(feeds, null, out _, out _, profile);
        Assert.Equal(["Conv"], profile.Entries.Select(e => e.Operator));

        var kept = Model([4, 1, 7]);
        OrtReference.AssertSame(kept, feeds);
        Assert.Equal([1], Operators(OnnxModel.Load(kept), feeds, "ElementwiseChain"));
    }

    /// <summary>Only the engine writes the fused operator and its steps: a model that names either is refused at load.</summary>
    [Fact]
    public void A_model_may_not_name_the_fused_operator_or_its_steps()
    {
        var named = new OnnxGraphBuilder(17).Input("x", 4).Output("y", 4).Node("ElementwiseChain", ["x"], "y").Build();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(named));
        Assert.Contains("cannot run", error.Message, StringComparison.Ordinal);
        Assert.Contains("ElementwiseChain", error.Message, StringComparison.Ordinal);

        var model = ModelProto.Parser.ParseFrom(new OnnxGraphBuilder(17).Input("x", 4).Output("y", 4).Node("Relu", ["x"], "y").Build());
        model.Graph.Node[0].Attribute.Add(new AttributeProto { Name = GraphFusion.Steps, Type = AttributeProto.Types.AttributeType.Strings, Strings = { ByteString.CopyFromUtf8("Exp") } });
        error = Assert.Throws<ModelException>(() => OnnxModel.Load(model.ToByteArray()));
        Assert.Contains(GraphFusion.Steps, error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Layer normalisation spelled out in nine nodes (PyTorch's export before opset 17, axes as an
    /// attribute or, from opset 18, an input) becomes one LayerNormalization; a γ that broadcasts
    /// rather than matching the last axis leaves the nodes as they are (fused into chains only).
    /// </summary>
    [Theory]
    [InlineData(13, 16)]
    [InlineData(18, 16)]
    [InlineData(13, 1)]
    public void A_spelled_out_layer_norm_becomes_one_node(int opset, int gammaLength)
    {
        var random = new Random(opset + gammaLength);
        var builder = new OnnxGraphBuilder(opset).Input("x", 3, 5, 16).Output("y", 3, 5, 16)
            .Initializer("two", [], [2f]).Initializer("eps", [], [1e-5f])
            .Initializer("gamma", [gammaLength], RandomTensor(random, [gammaLength], 0.5f, 2f).Data).Initializer("beta", [gammaLength], RandomTensor(random, [gammaLength], -1, 1).Data);
        (string Name, object Value)[] axes = opset >= 18 ? [] : [("axes", new[] { -1L })];
        string[] Mean(string of) => opset >= 18 ? [of, "last"] : [of];
        if (opset >= 18)
        {
            builder.Longs("last", [1], [-1]);
        }

        var model = builder.Node("ReduceMean", Mean("x"), "mean", axes).Node("Sub", ["x", "mean"], "d").Node("Pow", ["d", "two"], "sq")
            .Node("ReduceMean", Mean("sq"), "var", axes).Node("Add", ["var", "eps"], "ve").Node("Sqrt", ["ve"], "sd").Node("Div", ["d", "sd"], "n")
            .Node("Mul", ["n", "gamma"], "s").Node("Add", ["s", "beta"], "y").Build();
        var feeds = Feeds(("x", RandomTensor(random, [3, 5, 16], -3, 3)));

        OrtReference.AssertSame(model, feeds);
        var profile = new OperatorProfile();
        OnnxModel.Load(model).Run(feeds, null, out _, out _, profile);
        if (gammaLength == 16)
        {
            Assert.Equal(["LayerNormalization"], profile.Entries.Select(e => e.Operator));
        }
        else
        {
            Assert.DoesNotContain("LayerNormalization", profile.Entries.Select(e => e.Operator));
        }
    }

    /// <summary>
    /// Which operand layouts take the fused pass and which go node by node: the pass needs each operand
    /// to vary along adjacent axes of the flowing value, in runs of at least 16 elements, and to be float.
    /// </summary>
    [Theory]
    [InlineData(new[] { 2, 6, 5, 7 }, new[] { 6, 1, 1 }, 35)]
    [InlineData(new[] { 2, 6, 5, 32 }, new[] { 32 }, 32)]
    [InlineData(new[] { 2, 6, 5, 7 }, new[] { 1 }, 420)]
    [InlineData(new[] { 2, 6, 5, 7 }, new[] { 2, 6, 5, 7 }, 420)]
    [InlineData(new[] { 3, 4, 20, 20 }, new[] { 3, 4, 1, 1 }, 400)]
    [InlineData(new[] { 2, 6, 5, 7 }, new[] { 6, 1, 7 }, 0)] // axes 1 and 3
    [InlineData(new[] { 1, 6, 5, 7 }, new[] { 2, 6, 5, 7 }, 0)] // would widen x
    [InlineData(new[] { 100, 3 }, new[] { 3 }, 0)] // runs of 3
    public void The_fused_pass_takes_operands_that_line_up(int[] shape, int[] operand, int segment)
    {
        var node = new NodeProto { OpType = ElementwiseChain.Name, Input = { "x", "k" }, Output = { "y" } };
        node.Attribute.Add(new AttributeProto { Name = GraphFusion.Steps, Type = AttributeProto.Types.AttributeType.Strings, Strings = { ByteString.CopyFromUtf8("Mul 1"), ByteString.CopyFromUtf8("Relu") } });
        var random = new Random(1);
        var x = RandomTensor(random, shape, -1, 1);
        var context = new OpContext(node, [x, RandomTensor(random, operand, -1, 1)], 17);

        var plan = ElementwiseChain.Plan(context, ElementwiseChain.Prepare(context).Steps, x);

        Assert.Equal(segment, plan?.Segment ?? 0);
        var integers = new OpContext(node, [x, Tensor.OfLongs(operand, new long[operand.Aggregate(1, (a, b) => a * b)])], 17);
        Assert.Null(ElementwiseChain.Plan(integers, ElementwiseChain.Prepare(integers).Steps, x));
    }

    /// <summary>
    /// An operand that only the run shows to widen the flowing value (two inputs' batch dimensions are
    /// different symbols, fed 1 and 3) goes node by node and broadcasts as the nodes did.
    /// </summary>
    [Fact]
    public void An_operand_that_widens_at_run_time_broadcasts_as_the_nodes_did()
    {
        var model = new OnnxGraphBuilder(17).Input("x", "n", 4).Input("r", "m", 4).AnyOutput("y")
            .Node("Exp", ["x"], "e").Node("Add", ["e", "r"], "s").Node("Relu", ["s"], "y")
            .Build();
        var random = new Random(9);
        var feeds = Feeds(("x", RandomTensor(random, [1, 4], -2, 2)), ("r", RandomTensor(random, [3, 4], -2, 2)));

        OrtReference.AssertSame(model, feeds);
        Assert.Equal([1], Operators(OnnxModel.Load(model), feeds, "ElementwiseChain"));
        Assert.Equal([3, 4], OnnxModel.Load(model).Run(feeds)["y"].Shape);
    }

    /// <summary>
    /// A scale the convolution's weights cannot absorb stays a node: a divisor so small its reciprocal
    /// is infinite, a factor of infinity; without a bias and grouped, the fold still holds.
    /// </summary>
    [Theory]
    [InlineData("Div", 1e-39f, 1, true, false)]
    [InlineData("Mul", float.PositiveInfinity, 1, true, false)]
    [InlineData("Mul", 0.5f, 1, false, true)]
    [InlineData("Div", 3f, 2, true, true)]
    public void Only_finite_scales_fold_into_the_convolution(string op, float factor, int group, bool bias, bool folds)
    {
        var random = new Random(13);
        var builder = new OnnxGraphBuilder(17).Input("x", 1, 4, 6, 6).AnyOutput("y")
            .Initializer("w", [4, 4 / group, 3, 3], RandomTensor(random, [4, 4 / group, 3, 3], -1, 1).Data).Initializer("k", [4, 1, 1], [factor, 1f, 2f, 0.5f]);
        if (bias)
        {
            builder.Initializer("b", [4], RandomTensor(random, [4], -1, 1).Data);
        }

        var model = builder.Node("Conv", bias ? ["x", "w", "b"] : ["x", "w"], "c", ("group", (long)group)).Node(op, ["c", "k"], "s").Node("Relu", ["s"], "y").Build();
        var feeds = Feeds(("x", RandomTensor(random, [1, 4, 6, 6], -1, 1)));

        if (float.IsFinite(factor))
        {
            OrtReference.AssertSame(model, feeds);
        }

        var profile = new OperatorProfile();
        OnnxModel.Load(model).Run(feeds, null, out _, out _, profile);
        Assert.Equal(folds ? ["Conv"] : ["Conv", "ElementwiseChain"], profile.Entries.Select(e => e.Operator).Order());
    }

    /// <summary>
    /// Shapes that are nearly a spelled-out layer norm are left alone rather than refused: the centred
    /// value squared twice, an epsilon of a higher rank than x (which widens the output).
    /// </summary>
    [Fact]
    public void Near_misses_of_the_layer_norm_pattern_run_as_they_are()
    {
        var random = new Random(21);
        var twoSquares = new OnnxGraphBuilder(13).Input("x", 2, 8).AnyOutput("y").AnyOutput("q")
            .Initializer("two", [], [2f])
            .Node("ReduceMean", ["x"], "mean", ("axes", new[] { -1L })).Node("Sub", ["x", "mean"], "d").Node("Pow", ["d", "two"], "y").Node("Pow", ["d", "two"], "q")
            .Build();
        OrtReference.AssertSame(twoSquares, Feeds(("x", RandomTensor(random, [2, 8], -3, 3))));

        var wideEpsilon = new OnnxGraphBuilder(13).Input("x", 2, 8).AnyOutput("y")
            .Initializer("two", [], [2f]).Initializer("eps", [1, 1, 1], [1e-5f]).Initializer("gamma", [8], RandomTensor(random, [8], 0.5f, 2f).Data).Initializer("beta", [8], RandomTensor(random, [8], -1, 1).Data)
            .Node("ReduceMean", ["x"], "mean", ("axes", new[] { -1L })).Node("Sub", ["x", "mean"], "d").Node("Pow", ["d", "two"], "sq")
            .Node("ReduceMean", ["sq"], "var", ("axes", new[] { -1L })).Node("Add", ["var", "eps"], "ve").Node("Sqrt", ["ve"], "sd").Node("Div", ["d", "sd"], "n")
            .Node("Mul", ["n", "gamma"], "s").Node("Add", ["s", "beta"], "y").Build();
        var feeds = Feeds(("x", RandomTensor(random, [2, 8], -3, 3)));
        OrtReference.AssertSame(wideEpsilon, feeds);
        Assert.Equal([1, 2, 8], OnnxModel.Load(wideEpsilon).Run(feeds)["y"].Shape);
    }

    /// <summary>Pow with the flowing value as the exponent (a constant base), and of negative bases by integral exponents.</summary>
    [Fact]
    public void Powers_keep_their_operand_order_and_signs()
    {
        var random = new Random(17);
        var model = new OnnxGraphBuilder(17).Input("x", 4, 32).AnyOutput("y")
            .Initializer("base", [32], RandomTensor(random, [32], 0.5f, 3f).Data).Initializer("three", [], [3f]).Initializer("two", [1], [2f])
            .Node("Neg", ["x"], "n").Node("Pow", ["n", "three"], "cube").Node("Pow", ["cube", "two"], "sq").Node("Neg", ["sq"], "m").Node("Pow", ["base", "m"], "y")
            .Build();
        var feeds = Feeds(("x", RandomTensor(random, [4, 32], -1.5f, 1.5f)));

        OrtReference.AssertSame(model, feeds);
        Assert.Equal([1], Operators(OnnxModel.Load(model), feeds, "ElementwiseChain"));
    }
}
