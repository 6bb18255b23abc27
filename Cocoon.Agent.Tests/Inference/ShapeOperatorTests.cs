using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>Data-movement, reduction and normalisation operators against ONNX Runtime, in the opset forms that differ.</summary>
public sealed class ShapeOperatorTests
{
    private static readonly Random Random = new(2026);

    [Fact]
    public void Reshape_flatten_and_transpose()
    {
        var x = RandomTensor(Random, [2, 3, 4], -1, 1);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(14).Input("x", 2, 3, 4).Longs("s", [3], [0, -1, 2]).AnyOutput("r").AnyOutput("f").AnyOutput("t").AnyOutput("d")
                .Node("Reshape", ["x", "s"], "r").Node("Flatten", ["x"], "f", ("axis", -1L))
                .Node("Transpose", ["x"], "t", ("perm", new long[] { 2, 0, 1 })).Node("Transpose", ["x"], "d").Build(),
            Feeds(("x", x)));
    }

    /// <summary>
    /// Transposes whose last two output dimensions swap the source's, which the CPU kernels move in 8 × 8
    /// tiles: columns left over past the last tile, four dimensions (attention's keys), a size split
    /// across cores, and a transpose followed by a product (the tiles' output read in place).
    /// </summary>
    [Theory]
    [InlineData(new[] { 2, 13, 24 }, new long[] { 0, 2, 1 })]
    [InlineData(new[] { 2, 12, 3, 16 }, new long[] { 0, 2, 3, 1 })]
    [InlineData(new[] { 64, 40, 72 }, new long[] { 0, 2, 1 })]
    [InlineData(new[] { 48, 17 }, new long[] { 1, 0 })]
    public void Transposes_moved_in_tiles_match_onnx_runtime(int[] shape, long[] perm)
    {
        int[] turned = [.. perm.Select(p => shape[p])];
        OrtReference.AssertSame(
            new OnnxGraphBuilder(14).Input("x", [.. shape.Cast<object>()]).Input("w", turned[^1], 5).AnyOutput("t").AnyOutput("p")
                .Node("Transpose", ["x"], "t", ("perm", perm)).Node("Transpose", ["x"], "u", ("perm", perm)).Node("MatMul", ["u", "w"], "p").Build(),
            Feeds(("x", RandomTensor(Random, shape, -1, 1)), ("w", RandomTensor(Random, [turned[^1], 5], -1, 1))));
    }

    [Fact]
    public void Concat_and_split_in_both_opset_forms()
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("a", 2, 3).Input("b", 2, 1).Input("c", 2, 0).Longs("parts", [3], [1, 2, 1]).AnyOutput("y").AnyOutput("p").AnyOutput("q").AnyOutput("r")
                .Node("Concat", ["a", "b", "c"], "y", ("axis", -1L)).Node("Split", ["y", "parts"], ["p", "q", "r"], ("axis", 1L)).Build(),
            Feeds(("a", RandomTensor(Random, [2, 3], -1, 1)), ("b", RandomTensor(Random, [2, 1], -1, 1)), ("c", RandomTensor(Random, [2, 0], -1, 1))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(11).Input("x", 6, 2).AnyOutput("p").AnyOutput("q").AnyOutput("e1").AnyOutput("e2").AnyOutput("e3")
                .Node("Split", ["x"], ["p", "q"], ("split", new long[] { 2, 4 })).Node("Split", ["x"], ["e1", "e2", "e3"]).Build(),
            Feeds(("x", RandomTensor(Random, [6, 2], -1, 1))));
    }

    /// <summary>Opset 18's num_outputs: an uneven split matches ORT; zero parts is one model error at load, never a division by zero.</summary>
    [Fact]
    public void Split_by_num_outputs_and_a_split_into_no_parts()
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(18).Input("x", 7, 2).AnyOutput("a").AnyOutput("b").AnyOutput("c")
                .Node("Split", ["x"], ["a", "b", "c"], ("num_outputs", 3L)).Build(),
            Feeds(("x", RandomTensor(Random, [7, 2], -1, 1))));
        var none = new OnnxGraphBuilder(18).Input("x", 7, 2).AnyOutput("a").Node("Split", ["x"], ["a"], ("num_outputs", 0L), ("axis", 1L)).Build();
        Assert.Contains("attribute 'num_outputs' is 0; it must be at least 1", Assert.Throws<ModelException>(() => OnnxModel.Load(none)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Slice_with_negative_indices_steps_and_clamping_in_both_opset_forms()
    {
        var x = RandomTensor(Random, [5, 6, 3], -1, 1);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 5, 6, 3)
                .Longs("s", [3], [-1, 1, 0]).Longs("e", [3], [-100, 1000, 2]).Longs("ax", [3], [0, 1, -1]).Longs("st", [3], [-2, 2, 1])
                .Longs("s2", [1], [2]).Longs("e2", [1], [2])
                .AnyOutput("y").AnyOutput("empty")
                .Node("Slice", ["x", "s", "e", "ax", "st"], "y").Node("Slice", ["x", "s2", "e2"], "empty").Build(),
            Feeds(("x", x)));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(9).Input("x", 5, 6, 3).AnyOutput("y")
                .Node("Slice", ["x"], "y", ("starts", new long[] { 1, -4 }), ("ends", new long[] { 4, 100 }), ("axes", new long[] { 0, 1 })).Build(),
            Feeds(("x", x)));
    }

    [Fact]
    public void Gather_with_negative_and_matrix_indices_on_any_axis()
    {
        var x = RandomTensor(Random, [4, 5, 3], -1, 1);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 4, 5, 3).Typed("i", 7, 2, 2).Longs("j", [], [-1]).AnyOutput("a").AnyOutput("b").AnyOutput("c")
                .Node("Gather", ["x", "i"], "a").Node("Gather", ["x", "i"], "b", ("axis", 1L)).Node("Gather", ["x", "j"], "c", ("axis", -1L)).Build(),
            Feeds(("x", x), ("i", Tensor.OfLongs([2, 2], [0, -1, 2, 3]))));
    }

    [Fact]
    public void Squeeze_and_unsqueeze_in_both_opset_forms()
    {
        var x = RandomTensor(Random, [1, 3, 1, 2], -1, 1);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(11).Input("x", 1, 3, 1, 2).AnyOutput("a").AnyOutput("b").AnyOutput("c")
                .Node("Squeeze", ["x"], "a").Node("Squeeze", ["x"], "b", ("axes", new long[] { -2 })).Node("Unsqueeze", ["x"], "c", ("axes", new long[] { 0, -1 })).Build(),
            Feeds(("x", x)));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 1, 3, 1, 2).Longs("axes", [1], [0]).Longs("more", [2], [1, 5]).AnyOutput("a").AnyOutput("b")
                .Node("Squeeze", ["x", "axes"], "a").Node("Unsqueeze", ["x", "more"], "b").Build(),
            Feeds(("x", x)));
    }

    [Fact]
    public void Shape_subgraphs_constant_of_shape_expand_and_tile()
    {
        // The pattern exporters emit: read a shape, compute on it in int64, build a tensor from it.
        OrtReference.AssertSame(
            new OnnxGraphBuilder(15).Input("x", 2, 3, 4).Longs("zero", [1], [0]).Longs("two", [], [2]).Longs("rep", [3], [1, 2, 1])
                .AnyOutput("shape").AnyOutput("tail").AnyOutput("ones").AnyOutput("wide").AnyOutput("tiled").AnyOutput("k")
                .Node("Shape", ["x"], "shape").Node("Shape", ["x"], "tail", ("start", -2L))
                .Node("Gather", ["shape", "zero"], "first").Node("Mul", ["first", "two"], "doubled")
                .Node("Concat", ["doubled", "first"], "dims", ("axis", 0L))
                .Node("ConstantOfShape", ["dims"], "ones", ("value", Scalar(1.5f)))
                .Node("Expand", ["x", "tail"], "wide").Node("Tile", ["x", "rep"], "tiled")
                .Node("Constant", [], "k", ("value_ints", new long[] { 4, 5 })).Build(),
            Feeds(("x", RandomTensor(Random, [2, 3, 4], -1, 1))));
    }

    [Theory]
    [InlineData("ReduceSum", 13)]
    [InlineData("ReduceMean", 18)]
    [InlineData("ReduceMax", 18)]
    [InlineData("ReduceSum", 11)]
    [InlineData("ReduceMean", 13)]
    [InlineData("ReduceMax", 13)]
    public void Reductions_over_axes_with_and_without_kept_dimensions(string op, int opset)
    {
        var axesAsInput = op == "ReduceSum" ? opset >= 13 : opset >= 18;
        var builder = new OnnxGraphBuilder(opset).Input("x", 3, 4, 5).AnyOutput("kept").AnyOutput("dropped").AnyOutput("all");
        if (axesAsInput)
        {
            builder.Longs("axes", [2], [0, -1])
                .Node(op, ["x", "axes"], "kept").Node(op, ["x", "axes"], "dropped", ("keepdims", 0L)).Node(op, ["x"], "all");
        }
        else
        {
            builder.Node(op, ["x"], "kept", ("axes", new long[] { 0, -1 })).Node(op, ["x"], "dropped", ("axes", new long[] { 0, -1 }), ("keepdims", 0L)).Node(op, ["x"], "all");
        }

        OrtReference.AssertSame(builder.Build(), Feeds(("x", RandomTensor(Random, [3, 4, 5], -2, 2))));
    }

    [Fact]
    public void ArgMax_picks_first_or_last_of_ties()
    {
        var x = new Tensor([2, 4], [1, 3, 3, 0, -1, -1, -2, -1]);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 2, 4).AnyOutput("a").AnyOutput("b").AnyOutput("c")
                .Node("ArgMax", ["x"], "a", ("axis", 1L)).Node("ArgMax", ["x"], "b", ("axis", -1L), ("select_last_index", 1L), ("keepdims", 0L)).Node("ArgMax", ["x"], "c").Build(),
            Feeds(("x", x)));
    }

    [Fact]
    public void Layer_and_batch_normalization_and_dropout_at_inference()
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", 2, 3, 8).Input("g", 8).Input("b", 8).Input("g2", 3, 8).AnyOutput("y").AnyOutput("z")
                .Node("LayerNormalization", ["x", "g", "b"], "y", ("epsilon", 1e-3f)).Node("LayerNormalization", ["x", "g2"], "z", ("axis", 1L)).Build(),
            Feeds(("x", RandomTensor(Random, [2, 3, 8], -3, 3)), ("g", RandomTensor(Random, [8], 0.5f, 2)), ("b", RandomTensor(Random, [8], -1, 1)), ("g2", RandomTensor(Random, [3, 8], 0.5f, 2))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(15).Input("x", 2, 3, 4, 5).Input("s", 3).Input("b", 3).Input("m", 3).Input("v", 3).AnyOutput("y").AnyOutput("d")
                .Node("BatchNormalization", ["x", "s", "b", "m", "v"], "y").Node("Dropout", ["x"], "d").Build(),
            Feeds(("x", RandomTensor(Random, [2, 3, 4, 5], -3, 3)), ("s", RandomTensor(Random, [3], 0.5f, 2)), ("b", RandomTensor(Random, [3], -1, 1)),
                ("m", RandomTensor(Random, [3], -1, 1)), ("v", RandomTensor(Random, [3], 0.5f, 2))));
    }

    private static Onnx.TensorProto Scalar(float value)
    {
        var t = new Onnx.TensorProto { DataType = 1 };
        t.Dims.Add(1);
        t.FloatData.Add(value);
        return t;
    }
}
