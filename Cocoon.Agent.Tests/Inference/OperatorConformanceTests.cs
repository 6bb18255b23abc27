using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Operators;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Every operator against ONNX Runtime 1.31.1, one-node models built here, on random values and on
/// shapes chosen to hit broadcasting, negative axes, odd sizes and empty tensors.
/// </summary>
public sealed class OperatorConformanceTests
{
    private static readonly object[][] UnaryShapes = [[3, 5], [2, 3, 7], [1], [0, 4], [4, 1, 3, 2]];

    public static TheoryData<string> UnaryOperators => new()
    {
        "Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Reciprocal", "Erf", "LeakyRelu", "Elu", "Selu", "Softplus", "Sign", "Shrink", "HardSigmoid", "HardSwish", "Identity", "Softmax", "LogSoftmax",
        "Floor", "Ceil", "Round", "Sin", "Cos",
    };

    [Theory]
    [MemberData(nameof(UnaryOperators))]
    public void Unary_operators_match_onnx_runtime(string op)
    {
        var random = new Random(op.GetHashCode(StringComparison.Ordinal));
        foreach (var dims in UnaryShapes)
        {
            var shape = dims.Cast<int>().ToArray();
            OrtReference.AssertSame(
                new OnnxGraphBuilder(17).Input("x", dims).AnyOutput("y").Node(op, ["x"], "y").Build(),
                Feeds(("x", RandomTensor(random, shape, -3, 3))));
        }
    }

    /// <summary>Tensors large enough that the CPU kernels split them across cores, softmax along a middle axis included.</summary>
    [Theory]
    [InlineData("Softmax")]
    [InlineData("LogSoftmax")]
    [InlineData("Erf")]
    [InlineData("HardSwish")]
    public void Large_tensors_split_across_cores_match_onnx_runtime(string op)
    {
        var random = new Random(13);
        var model = new OnnxGraphBuilder(17).Input("x", 48, 40, 41).Input("b", 41).AnyOutput("y").AnyOutput("z")
            .Node(op, ["x"], "y", op.EndsWith("Softmax", StringComparison.Ordinal) ? [("axis", 1L)] : [])
            .Node("Mul", ["y", "b"], "z").Build();
        OrtReference.AssertSame(model, Feeds(("x", RandomTensor(random, [48, 40, 41], -3, 3)), ("b", RandomTensor(random, [41], -1, 1))));
    }

    [Theory]
    [InlineData("Sqrt")]
    [InlineData("Log")]
    public void Operators_defined_on_positive_values_match_onnx_runtime(string op)
    {
        var random = new Random(5);
        OrtReference.AssertSame(new OnnxGraphBuilder(17).Input("x", 4, 9).AnyOutput("y").Node(op, ["x"], "y").Build(), Feeds(("x", RandomTensor(random, [4, 9], 0.1f, 5))));
    }

    public static TheoryData<string, int[], int[]> BinaryCases()
    {
        var data = new TheoryData<string, int[], int[]>();
        // Per-channel both ways round, crossed size-1 dimensions, a row split across cores and one long run split across cores.
        int[][][] shapes =
        [
            [[2, 3, 4], [2, 3, 4]], [[2, 3, 4], [4]], [[2, 1, 4], [3, 1]], [[], [2, 3]], [[0, 3], [3]], [[5, 1, 1, 3], [1, 2, 3]],
            [[2, 3, 4, 5], [3, 1, 1]], [[3, 1, 1], [2, 3, 4, 5]], [[1, 3, 1, 5], [2, 1, 4, 1]], [[64, 48, 40], [48, 1]], [[1, 20000], [1]],
        ];
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Sum", "Equal", "Less", "Greater", "GreaterOrEqual", "LessOrEqual" })
        {
            foreach (var pair in shapes)
            {
                data.Add(op, pair[0], pair[1]);
            }
        }

        return data;
    }

    /// <summary>Depthwise convolutions (one filter per channel), which run on a kernel of their own: strides, dilations, uneven padding, a bias, a fused Relu.</summary>
    [Theory]
    [InlineData(new[] { 2, 5, 9, 11 }, 3, 1, 1, new long[] { 1, 1, 1, 1 }, true)]
    [InlineData(new[] { 1, 4, 12, 10 }, 3, 2, 1, new long[] { 1, 1, 1, 1 }, false)]
    [InlineData(new[] { 1, 3, 11, 13 }, 3, 1, 2, new long[] { 2, 0, 1, 2 }, true)]
    [InlineData(new[] { 1, 6, 8, 8 }, 5, 1, 1, new long[] { 2, 2, 2, 2 }, false)]
    [InlineData(new[] { 1, 2, 7, 9 }, 3, 2, 1, new long[] { 0, 1, 2, 0 }, true)]
    [InlineData(new[] { 1, 1, 1, 4 }, 1, 1, 1, new long[] { 0, 3, 0, 2 }, false)]
    [InlineData(new[] { 2, 3, 2, 5 }, 1, 2, 1, new long[] { 1, 4, 0, 1 }, false)]
    public void Depthwise_convolutions_match_onnx_runtime(int[] x, int kernel, long stride, long dilation, long[] pads, bool relu)
    {
        var random = new Random(x.Sum() + kernel);
        var channels = x[1];
        var builder = new OnnxGraphBuilder(17).Input("x", [.. x.Cast<object>()]).AnyOutput("y")
            .Initializer("w", [channels, 1, kernel, kernel], [.. RandomTensor(random, [channels, 1, kernel, kernel], -1, 1).Data])
            .Initializer("b", [channels], [.. RandomTensor(random, [channels], -1, 1).Data])
            .Node("Conv", ["x", "w", "b"], relu ? "c" : "y", ("group", (long)channels), ("strides", new[] { stride, stride }), ("dilations", new[] { dilation, dilation }), ("pads", pads));
        if (relu)
        {
            builder.Node("Relu", ["c"], "y");
        }

        OrtReference.AssertSame(builder.Build(), Feeds(("x", RandomTensor(random, x, -2, 2))));
    }

    /// <summary>Convolutions whose padding is wider than the input (and 1-D ones, which run as 2-D over a height of 1).</summary>
    [Theory]
    [InlineData(new[] { 1, 4, 1, 1 }, new[] { 5, 4, 1, 1 }, new long[] { 0, 2, 0, 2 })]
    [InlineData(new[] { 2, 3, 2, 2 }, new[] { 4, 3, 2, 2 }, new long[] { 3, 3, 3, 3 })]
    [InlineData(new[] { 1, 4, 5 }, new[] { 5, 4, 1 }, new long[] { 2, 2 })]
    [InlineData(new[] { 2, 4, 10 }, new[] { 6, 2, 3 }, new long[] { 1, 0 })]
    [InlineData(new[] { 1, 4, 1 }, new[] { 4, 4, 5 }, new long[] { 2, 2 })]
    [InlineData(new[] { 1, 2, 1, 1 }, new[] { 3, 2, 1, 5 }, new long[] { 0, 2, 0, 2 })]
    [InlineData(new[] { 1, 4, 1 }, new[] { 4, 4, 5 }, new long[] { 3, 2 })]
    public void Convolutions_with_wide_padding_and_in_one_dimension_match_onnx_runtime(int[] x, int[] w, long[] pads)
    {
        var random = new Random(x.Sum() + w.Sum());
        var attributes = new List<(string, object)> { ("pads", pads) };
        if (x[1] != w[1])
        {
            attributes.Add(("group", (long)(x[1] / w[1])));
        }

        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", [.. x.Cast<object>()]).Initializer("w", w, RandomTensor(random, w, -1, 1).Data).AnyOutput("y").Node("Conv", ["x", "w"], "y", [.. attributes]).Build(),
            Feeds(("x", RandomTensor(random, x, -1, 1))));
    }

    /// <summary>Casts to types the engine holds in a wider one (int32 and the narrow integers in int64, float16/bfloat16/double in float32), and back to float.</summary>
    [Theory]
    [InlineData(6L)]
    [InlineData(5L)]
    [InlineData(3L)]
    [InlineData(2L)]
    [InlineData(4L)]
    [InlineData(10L)]
    [InlineData(16L)]
    [InlineData(11L)]
    public void Casts_through_narrower_types_match_onnx_runtime(long to)
    {
        var random = new Random((int)to);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", 4, 9).AnyOutput("y").Node("Cast", ["x"], "n", ("to", to)).Node("Cast", ["n"], "y", ("to", 1L)).Build(),
            Feeds(("x", RandomTensor(random, [4, 9], -300, 300))));
    }

    /// <summary>3-D windows (volumes): convolutions with groups, strides, dilations and padding, and both pools.</summary>
    [Theory]
    [InlineData("Conv", 1L, new long[] { 1, 1, 1 }, new long[] { 1, 1, 1 }, new long[] { 0, 0, 0, 0, 0, 0 })]
    [InlineData("Conv", 2L, new long[] { 2, 1, 2 }, new long[] { 1, 2, 1 }, new long[] { 1, 0, 1, 0, 1, 1 })]
    [InlineData("MaxPool", 1L, new long[] { 2, 2, 1 }, new long[] { 1, 1, 1 }, new long[] { 1, 0, 0, 0, 1, 0 })]
    [InlineData("AveragePool", 1L, new long[] { 1, 2, 2 }, new long[] { 1, 1, 1 }, new long[] { 0, 1, 1, 1, 0, 1 })]
    public void Volumes_match_onnx_runtime(string op, long group, long[] strides, long[] dilations, long[] pads)
    {
        var random = new Random(op.Length + (int)group);
        int[] x = [2, 4, 5, 6, 7];
        var attributes = new List<(string, object)> { ("strides", strides), ("pads", pads) };
        var builder = new OnnxGraphBuilder(17).Input("x", [.. x.Cast<object>()]).AnyOutput("y");
        if (op == "Conv")
        {
            int[] w = [6, 4 / (int)group, 3, 2, 3];
            attributes.AddRange([("group", group), ("dilations", dilations)]);
            builder.Initializer("w", w, RandomTensor(random, w, -1, 1).Data).Initializer("b", [6], RandomTensor(random, [6], -1, 1).Data).Node("Conv", ["x", "w", "b"], "y", [.. attributes]);
        }
        else
        {
            attributes.Add(("kernel_shape", new long[] { 2, 3, 2 }));
            if (op == "AveragePool")
            {
                attributes.Add(("count_include_pad", 1L));
            }

            builder.Node(op, ["x"], "y", [.. attributes]);
        }

        OrtReference.AssertSame(builder.Build(), Feeds(("x", RandomTensor(random, x, -1, 1))));
    }

    /// <summary>Opset 6–8 settings the engine does not implement are refused by name, not run as something else.</summary>
    [Theory]
    [InlineData(6L, "is_test", 0L, "training mode")]
    [InlineData(7L, "spatial", 0L, "per element")]
    public void Legacy_batch_normalization_settings_the_engine_does_not_run_are_refused(long opset, string attribute, long value, string expected)
    {
        var model = new OnnxGraphBuilder(opset).Input("x", 1, 2, 3, 3).AnyOutput("y")
            .Initializer("s", [2], [1f, 1f]).Initializer("b", [2], [0f, 0f]).Initializer("m", [2], [0f, 0f]).Initializer("v", [2], [1f, 1f])
            .Node("BatchNormalization", ["x", "s", "b", "m", "v"], "y", (attribute, value)).Build();
        Assert.Contains(expected, Assert.Throws<ModelException>(() => OnnxModel.Load(model)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("strides", new long[] { 2, 2147483647 })]
    [InlineData("pads", new long[] { 1, 1, 1, 1 })]
    [InlineData("dilations", new long[] { 1, 1 })]
    public void A_one_dimensional_window_attribute_of_the_wrong_length_is_refused_by_name(string attribute, long[] values)
    {
        var model = new OnnxGraphBuilder(17).Input("x", 1, 4, 9).Initializer("w", [2, 4, 3], new float[24]).AnyOutput("y")
            .Node("Conv", ["x", "w"], "y", (attribute, values)).Build();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(model));
        Assert.Contains($"{attribute} [{string.Join(", ", values)}] does not fit a 1-D window", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_legacy_broadcast_axis_over_inputs_of_unknown_rank_is_refused()
    {
        var model = new OnnxGraphBuilder(6).Input("x", 2, 3, 4).Input("b", 3).AnyOutput("y")
            .Node("Relu", ["x"], "r").Node("Add", ["r", "b"], "y", ("broadcast", 1L), ("axis", 1L)).Build();
        Assert.Contains("ranks of both inputs", Assert.Throws<ModelException>(() => OnnxModel.Load(model)).Message, StringComparison.Ordinal);
    }

    /// <summary>If runs the branch its condition names, with the outer values the branches read, a nested If included.</summary>
    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void If_runs_the_branch_its_condition_names_with_the_outer_values_it_reads(bool condition, bool nested)
    {
        var inner = new OnnxGraphBuilder(17).Output("inner_y", 2, 3).Node("Neg", ["x"], "inner_y").BuildGraph();
        var innerElse = new OnnxGraphBuilder(17).Output("inner_z", 2, 3).Node("Abs", ["x"], "inner_z").BuildGraph();
        var then = new OnnxGraphBuilder(17).Output("t", 2, 3).Initializer("one", [3], [1f, 2f, 3f]).Node("Add", ["x", "one"], "t").BuildGraph();
        var otherwise = new OnnxGraphBuilder(17).Output("e", 2, 3).Node("If", ["flag"], "e", ("then_branch", inner), ("else_branch", innerElse)).BuildGraph();
        var model = new OnnxGraphBuilder(17).Input("x", 2, 3).Typed("cond", 9).Typed("flag", 9).AnyOutput("y")
            .Node("Mul", ["x", "x"], "x2")
            .Node("If", ["cond"], "y", ("then_branch", then), ("else_branch", otherwise)).Build();
        var random = new Random(3);
        OrtReference.AssertSame(model, Feeds(
            ("x", RandomTensor(random, [2, 3], -2, 2)), ("cond", Tensor.OfBools([], [condition])), ("flag", Tensor.OfBools([], [nested]))));
    }

    [Fact]
    public void An_if_with_a_missing_branch_or_a_branch_that_cannot_run_is_refused_at_load()
    {
        var then = new OnnxGraphBuilder(17).Output("t", 2).Node("Neg", ["x"], "t").BuildGraph();
        var missing = new OnnxGraphBuilder(17).Input("x", 2).Typed("cond", 9).AnyOutput("y").Node("If", ["cond"], "y", ("then_branch", then)).Build();
        Assert.Contains("else_branch is missing", Assert.Throws<ModelException>(() => OnnxModel.Load(missing)).Message, StringComparison.Ordinal);

        var unknown = new OnnxGraphBuilder(17).Output("e", 2).Node("NoSuchOp", ["x"], "e").BuildGraph();
        var refused = new OnnxGraphBuilder(17).Input("x", 2).Typed("cond", 9).AnyOutput("y").Node("If", ["cond"], "y", ("then_branch", then), ("else_branch", unknown)).Build();
        var message = Assert.Throws<ModelException>(() => OnnxModel.Load(refused)).Message;
        Assert.Contains("a branch cannot run", message, StringComparison.Ordinal);
        Assert.Contains("NoSuchOp", message, StringComparison.Ordinal);
    }

    /// <summary>LRN across channels (ONNX Runtime takes odd windows over rank 4): windows narrower and wider than the channels, and of one.</summary>
    [Theory]
    [InlineData(new[] { 2, 5, 3, 4 }, 3L)]
    [InlineData(new[] { 1, 6, 4, 4 }, 5L)]
    [InlineData(new[] { 1, 3, 7, 2 }, 5L)]
    [InlineData(new[] { 2, 8, 2, 3 }, 1L)]
    public void LRN_matches_onnx_runtime(int[] x, long size)
    {
        // β = 0.75 (AlexNet's, taken by square roots) and another β (taken by Pow).
        foreach (var beta in new[] { 0.6f, 0.75f })
        {
            var random = new Random(x.Sum() + (int)size);
            OrtReference.AssertSame(
                new OnnxGraphBuilder(17).Input("x", [.. x.Cast<object>()]).AnyOutput("y")
                    .Node("LRN", ["x"], "y", ("size", size), ("alpha", 0.002f), ("beta", beta), ("bias", 1.5f)).Build(),
                Feeds(("x", RandomTensor(random, x, -3, 3))));
        }
    }

    /// <summary>PRelu's slope broadcasts one way, to X: per channel, per element, a scalar.</summary>
    [Theory]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 3, 1, 1 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 2, 3, 4 })]
    [InlineData(new[] { 3, 7 }, new int[0])]
    [InlineData(new[] { 2, 5 }, new[] { 5 })]
    public void PRelu_matches_onnx_runtime(int[] x, int[] slope)
    {
        var random = new Random(x.Length * 7 + slope.Length);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", [.. x.Cast<object>()]).Input("slope", [.. slope.Cast<object>()]).AnyOutput("y").Node("PRelu", ["x", "slope"], "y").Build(),
            Feeds(("x", RandomTensor(random, x, -3, 3)), ("slope", RandomTensor(random, slope, -1, 1))));
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Binary_operators_broadcast_like_onnx_runtime(string op, int[] a, int[] b)
    {
        var random = new Random(a.Length * 31 + b.Length);
        var (low, high) = op == "Pow" ? (0.5f, 2f) : (-4f, 4f);
        var x = RandomTensor(random, a, low, high);
        var y = RandomTensor(random, b, op == "Div" ? 0.5f : low, high);
        if (op == "Equal")
        {
            // Some equal pairs, or Equal is all false and proves little.
            y = new Tensor(b, [.. y.Data.Select((v, i) => i % 2 == 0 && x.Length > 0 ? x.Data[i % x.Length] : v)]);
        }

        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("a", [.. a.Cast<object>()]).Input("b", [.. b.Cast<object>()]).AnyOutput("y").Node(op, ["a", "b"], "y").Build(),
            Feeds(("a", x), ("b", y)));
    }

    [Fact]
    public void Integer_shape_arithmetic_and_comparisons_are_exact()
    {
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Equal", "Less", "Greater", "Max", "Mod" })
        {
            OrtReference.AssertSame(
                new OnnxGraphBuilder(17).Typed("a", 7, 2, 3).Typed("b", 7, 3).AnyOutput("y").Node(op, ["a", "b"], "y").Build(),
                Feeds(("a", Tensor.OfLongs([2, 3], [6, -7, 8, 9, 10, -11])), ("b", Tensor.OfLongs([3], [3, 2, -4]))));
        }

        // Mod's two sign conventions on integers, and C's fmod on floats.
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Typed("a", 7, 2, 3).Typed("b", 7, 3).Input("x", 2, 3).Input("y", 3).AnyOutput("c").AnyOutput("f")
                .Node("Mod", ["a", "b"], "c", ("fmod", 1L)).Node("Mod", ["x", "y"], "f", ("fmod", 1L)).Build(),
            Feeds(("a", Tensor.OfLongs([2, 3], [6, -7, 8, 9, 10, -11])), ("b", Tensor.OfLongs([3], [3, 2, -4])),
                ("x", new Tensor([2, 3], [5.5f, -7.25f, 8f, -1f, 10.5f, 3f])), ("y", new Tensor([3], [2f, -3f, 2.5f]))));
    }

    [Fact]
    public void Logic_special_values_argmin_and_size_match_onnx_runtime()
    {
        var (a, b) = (Tensor.OfBools([2, 3], [true, false, true, false, true, false]), Tensor.OfBools([3], [true, true, false]));
        foreach (var op in new[] { "And", "Or", "Xor" })
        {
            OrtReference.AssertSame(new OnnxGraphBuilder(17).Typed("a", 9, 2, 3).Typed("b", 9, 3).AnyOutput("y").Node(op, ["a", "b"], "y").Build(), Feeds(("a", a), ("b", b)));
        }

        var special = new Tensor([2, 4], [1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -2.5f, float.NaN, 3f]);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", 2, 4).AnyOutput("nan").AnyOutput("inf").AnyOutput("positive").AnyOutput("size")
                .Node("IsNaN", ["x"], "nan").Node("IsInf", ["x"], "inf").Node("IsInf", ["x"], "positive", ("detect_negative", 0L)).Node("Size", ["x"], "size").Build(),
            Feeds(("x", special)));
        var ties = new Tensor([2, 4], [3f, 1f, 1f, 5f, 2f, 2f, 7f, 2f]);
        foreach (var last in new[] { 0L, 1L })
        {
            OrtReference.AssertSame(
                new OnnxGraphBuilder(17).Input("x", 2, 4).AnyOutput("y").AnyOutput("z").Node("ArgMin", ["x"], "y", ("axis", 1L), ("select_last_index", last))
                    .Node("ArgMin", ["x"], "z", ("axis", 0L), ("keepdims", 0L), ("select_last_index", last)).Build(),
                Feeds(("x", ties)));
        }
    }

    [Fact]
    public void Where_not_cast_and_clip_match_onnx_runtime()
    {
        var random = new Random(7);
        var mask = Tensor.OfBools([3, 1], [true, false, true]);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Typed("c", 9, 3, 1).Input("x", 3, 4).Input("y", 4).AnyOutput("w").AnyOutput("n").Node("Where", ["c", "x", "y"], "w").Node("Not", ["c"], "n").Build(),
            Feeds(("c", mask), ("x", RandomTensor(random, [3, 4], -1, 1)), ("y", RandomTensor(random, [4], -1, 1))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", 2, 5).AnyOutput("i").AnyOutput("b").AnyOutput("f")
                .Node("Cast", ["x"], "i", ("to", 7L)).Node("Cast", ["x"], "b", ("to", 9L)).Node("Cast", ["i"], "f", ("to", 1L)).Build(),
            Feeds(("x", new Tensor([2, 5], [0, 1.5f, -2.7f, 3, 0, 9.9f, -0.2f, 4, 5, -6]))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 3, 3).Input("lo").Input("hi").AnyOutput("y").Node("Clip", ["x", "lo", "hi"], "y").Build(),
            Feeds(("x", RandomTensor(random, [3, 3], -3, 3)), ("lo", Tensor.Scalar(-1)), ("hi", Tensor.Scalar(0.5f))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(9).Input("x", 3, 3).AnyOutput("y").Node("Clip", ["x"], "y", ("min", -0.5f), ("max", 1f)).Build(),
            Feeds(("x", RandomTensor(random, [3, 3], -3, 3))));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void Gelu_matches_onnx_runtime(string approximate)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(20).Input("x", 5, 37).AnyOutput("y").Node("Gelu", ["x"], "y", ("approximate", approximate)).Build(),
            Feeds(("x", RandomTensor(new Random(3), [5, 37], -12, 12))));
    }

    /// <summary>The vectorised erf and GELU (own exp, 16, 8 and fewer lanes at a time) against erf in double precision, tails and odd lengths included.</summary>
    [Fact]
    public void Vectorised_erf_and_gelu_stay_within_float_rounding_of_double_precision()
    {
        var x = new float[4003];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = -20f + (40f * i / (x.Length - 1));
        }

        x[0] = 0f;
        x[1] = -0f;
        x[2] = 1e-30f;
        var (erf, gelu) = (new float[x.Length], new float[x.Length]);
        VectorMath.Erf(x, erf);
        VectorMath.Gelu(x, gelu);
        for (var i = 0; i < x.Length; i++)
        {
            var exact = ErfInDouble(x[i]);
            Assert.True(Math.Abs(erf[i] - exact) <= 3e-7, $"erf({x[i]}) = {erf[i]}, expected {exact}");
            var geluExact = x[i] * (1 + ErfInDouble(x[i] / Math.Sqrt(2))) / 2;
            Assert.True(Math.Abs(gelu[i] - geluExact) <= 3e-7 * Math.Max(1, Math.Abs(x[i])), $"gelu({x[i]}) = {gelu[i]}, expected {geluExact}");
        }

        // In place, as the Erf and Gelu operators call it.
        VectorMath.Erf(x, x);
        Assert.Equal(erf, x);
    }

    /// <summary>erf by its Maclaurin series near zero and its continued fraction further out, in double precision.</summary>
    private static double ErfInDouble(double x)
    {
        var a = Math.Abs(x);
        double result;
        if (a < 3)
        {
            double term = a, sum = a;
            for (var n = 1; n < 200 && Math.Abs(term) > 1e-20; n++)
            {
                term *= -a * a / n;
                sum += term / ((2 * n) + 1);
            }

            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            var fraction = 0.0;
            for (var n = 60; n >= 1; n--)
            {
                fraction = n / 2.0 / (a + fraction);
            }

            result = 1 - (Math.Exp(-a * a) / Math.Sqrt(Math.PI) / (a + fraction));
        }

        return x < 0 ? -result : result;
    }

    [Theory]
    [InlineData(-1, 17)]
    [InlineData(1, 17)]
    [InlineData(0, 17)]
    [InlineData(1, 11)]
    [InlineData(2, 11)]
    public void Softmax_axes_follow_each_opsets_semantics(int axis, int opset)
    {
        foreach (var op in new[] { "Softmax", "LogSoftmax" })
        {
            OrtReference.AssertSame(
                new OnnxGraphBuilder(opset).Input("x", 2, 3, 4).AnyOutput("y").Node(op, ["x"], "y", ("axis", (long)axis)).Build(),
                Feeds(("x", RandomTensor(new Random(axis + 10), [2, 3, 4], -5, 5))));
        }
    }

    public static TheoryData<int[], int[]> MatMulShapes => new()
    {
        { [3, 4], [4, 5] },
        { [2, 3, 4], [4, 5] },
        { [2, 1, 3, 4], [5, 4, 2] },
        { [4], [4, 3] },
        { [3, 4], [4] },
        { [7], [7] },
        { [1, 33, 17], [3, 17, 9] },
        { [0, 4], [4, 2] },

        // Every path of the CPU GEMM: 24-, 16- and 8-wide panels, dot products for the last columns,
        // leftover rows, two k-blocks, packing, and splits across cores by columns and by rows.
        { [37, 45], [45, 83] },
        { [70, 300], [300, 64] },
        { [130, 200], [200, 150] },
        { [600, 64], [64, 40] },
        { [1, 700], [700, 333] },
    };

    [Theory]
    [MemberData(nameof(MatMulShapes))]
    public void MatMul_broadcasts_batches_and_promotes_vectors_like_onnx_runtime(int[] a, int[] b)
    {
        var random = new Random(a.Sum() + b.Sum());
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("a", [.. a.Cast<object>()]).Input("b", [.. b.Cast<object>()]).AnyOutput("y").Node("MatMul", ["a", "b"], "y").Build(),
            Feeds(("a", RandomTensor(random, a, -1, 1)), ("b", RandomTensor(random, b, -1, 1))));
    }

    [Theory]
    [InlineData(0, 0, 1f, 1f, new[] { 5 })]
    [InlineData(1, 0, 0.5f, 2f, new[] { 1, 5 })]
    [InlineData(0, 1, 1f, 0.3f, new[] { 3, 1 })]
    [InlineData(1, 1, 2f, 1f, new int[0])]
    public void Gemm_transposes_scales_and_broadcasts_its_bias(int transA, int transB, float alpha, float beta, int[] bias)
    {
        var random = new Random(transA + (2 * transB));
        var a = transA == 1 ? new[] { 4, 3 } : [3, 4];
        var b = transB == 1 ? new[] { 5, 4 } : [4, 5];
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("a", [.. a.Cast<object>()]).Input("b", [.. b.Cast<object>()]).Input("c", [.. bias.Cast<object>()]).AnyOutput("y")
                .Node("Gemm", ["a", "b", "c"], "y", ("transA", (long)transA), ("transB", (long)transB), ("alpha", alpha), ("beta", beta)).Build(),
            Feeds(("a", RandomTensor(random, a, -1, 1)), ("b", RandomTensor(random, b, -1, 1)), ("c", RandomTensor(random, bias, -1, 1))));
    }

    internal static Dictionary<string, Tensor> Feeds(params (string Name, Tensor Value)[] feeds) => feeds.ToDictionary(f => f.Name, f => f.Value);

    internal static Tensor RandomTensor(Random random, int[] shape, float low, float high) =>
        new(shape, [.. Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => low + ((float)random.NextDouble() * (high - low)))]);
}
