using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Inputs a hostile model can give the newer operators, found by reading them against their kernels:
/// each is refused by name before a kernel could index outside its arrays, divide by zero or allocate
/// without bound, or (where the input is valid) runs right.
/// </summary>
public sealed class HostileOperatorInputTests
{
    private const int Hidden = 4;

    private static float[] Zeros(int count) => new float[count];

    private static ModelException Refused(byte[] model, Dictionary<string, Tensor> feeds) =>
        Assert.Throws<ModelException>(() => OnnxModel.Load(model).Run(feeds));

    [Theory]
    [InlineData(new[] { 1, 8 * Hidden }, null, "B's directions")]
    [InlineData(new[] { 2, 8 * Hidden }, new[] { 1, 1 }, "P's directions")]
    [InlineData(new[] { 2, 8 * Hidden }, new[] { 2, 2 * Hidden }, "P's second dimension")]
    public void A_recurrent_layer_whose_bias_or_peepholes_do_not_fit_is_refused(int[] bias, int[]? peepholes, string expected)
    {
        var builder = new OnnxGraphBuilder(14).Input("x", 3, 2, 5).AnyOutput("y")
            .Initializer("w", [2, 4 * Hidden, 5], Zeros(2 * 4 * Hidden * 5)).Initializer("r", [2, 4 * Hidden, Hidden], Zeros(2 * 4 * Hidden * Hidden))
            .Initializer("b", bias, Zeros(bias[0] * bias[1]));
        string[] inputs = ["x", "w", "r", "b"];
        if (peepholes is not null)
        {
            builder.Initializer("p", peepholes, Zeros(peepholes[0] * peepholes[1]));
            inputs = [.. inputs, "", "", "", "p"];
        }

        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(builder.Node("LSTM", inputs, "y", ("hidden_size", (long)Hidden), ("direction", "bidirectional")).Build()));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_sequence_over_a_batch_no_tensor_could_hold_is_refused_before_its_states_are_made()
    {
        var model = new OnnxGraphBuilder(14).Input("x", "s", "n", 1).AnyOutput("y_h")
            .Initializer("w", [1, 4 * 32, 1], Zeros(4 * 32)).Initializer("r", [1, 4 * 32, 32], Zeros(4 * 32 * 32))
            .Node("LSTM", ["x", "w", "r"], ["", "y_h"], ("hidden_size", 32L)).Build();
        var error = Refused(model, Feeds(("x", new Tensor([0, 1 << 24, 1], []))));
        Assert.Contains("would exceed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_transposed_convolution_with_a_zero_stride_is_refused_by_its_declaration_before_the_scatter_divides_by_it()
    {
        var model = new OnnxGraphBuilder(17).Input("x", 1, 2, 3, 3).Initializer("w", [2, 2, 3, 3], Zeros(36)).AnyOutput("y")
            .Node("ConvTranspose", ["x", "w"], "y", ("strides", new long[] { 0, 0 })).Build();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(model));
        Assert.Contains("attribute 'strides' holds 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_weight_read_by_transposed_convolutions_of_different_groups_is_laid_out_for_each()
    {
        var random = new Random(11);
        var model = new OnnxGraphBuilder(17).Input("x", 1, 4, 3, 3).AnyOutput("a").AnyOutput("b")
            .Initializer("w", [4, 2, 2, 2], [.. RandomTensor(random, [4, 2, 2, 2], -1, 1).Data])
            .Node("ConvTranspose", ["x", "w"], "a").Node("ConvTranspose", ["x", "w"], "b", ("group", 2L)).Build();
        OrtReference.AssertSame(model, Feeds(("x", RandomTensor(random, [1, 4, 3, 3], -1, 1))));
    }

    [Fact]
    public void A_depthwise_convolution_padded_far_past_its_image_runs_without_padding_a_plane_that_large()
    {
        var random = new Random(12);
        var model = new OnnxGraphBuilder(17).Input("x", 1, 2, 3, 3).Initializer("w", [2, 1, 2, 2], [.. RandomTensor(random, [2, 1, 2, 2], -1, 1).Data]).AnyOutput("y")
            .Node("Conv", ["x", "w"], "y", ("group", 2L), ("dilations", new long[] { 4000, 4000 }), ("pads", new long[] { 0, 0, 4000, 4000 })).Build();
        OrtReference.AssertSame(model, Feeds(("x", RandomTensor(random, [1, 2, 3, 3], -1, 1))));
    }

    [Fact]
    public void An_if_branch_with_inputs_of_its_own_and_a_loop_stacking_sequences_are_refused()
    {
        var branch = new OnnxGraphBuilder(17).Input("z", 2).Output("o", 2).Node("Identity", ["z"], "o").BuildGraph();
        var model = new OnnxGraphBuilder(17).Typed("c", 9).Input("x", 2).AnyOutput("y").Node("If", ["c"], "y", ("then_branch", branch), ("else_branch", branch)).Build();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(model));
        Assert.Contains("declares inputs of its own", error.Message, StringComparison.Ordinal);

        var body = new OnnxGraphBuilder(17).Typed("i", 7).Typed("cond_in", 9).TypedOutput("cond_out", 9).AnyOutput("s")
            .Node("Identity", ["cond_in"], "cond_out").Node("SequenceConstruct", ["x"], "s").BuildGraph();
        var loop = new OnnxGraphBuilder(17).Input("x", 2).Typed("m", 7).AnyOutput("all").Node("Loop", ["m", ""], ["all"], ("body", body)).Build();
        error = Refused(loop, Feeds(("x", new Tensor([2], [1f, 2f])), ("m", Tensor.OfLongs([], [2]))));
        Assert.Contains("scan output must be a tensor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sequences_and_ranges_a_hostile_model_sizes_are_refused_by_count()
    {
        var split = new OnnxGraphBuilder(17).Input("x", 1, 70000).AnyOutput("n")
            .Node("SplitToSequence", ["x"], "s", ("axis", 1L)).Node("SequenceLength", ["s"], "n").Build();
        var error = Refused(split, Feeds(("x", new Tensor([1, 70000], new float[70000]))));
        Assert.Contains("a sequence may hold", error.Message, StringComparison.Ordinal);

        var sizes = new OnnxGraphBuilder(17).Input("x", 1, 6).Typed("k", 7, 2).AnyOutput("n")
            .Node("SplitToSequence", ["x", "k"], "s", ("axis", 1L)).Node("SequenceLength", ["s"], "n").Build();
        error = Refused(sizes, Feeds(("x", new Tensor([1, 6], new float[6])), ("k", Tensor.OfLongs([2], [long.MaxValue, 1]))));
        Assert.Contains("do not add up", error.Message, StringComparison.Ordinal);

        var range = new OnnxGraphBuilder(17).Typed("s", 7).Typed("l", 7).Typed("d", 7).AnyOutput("y").Node("Range", ["s", "l", "d"], "y").Build();
        error = Refused(range, Feeds(("s", Tensor.OfLongs([], [long.MinValue])), ("l", Tensor.OfLongs([], [0])), ("d", Tensor.OfLongs([], [1]))));
        Assert.Contains("would exceed", error.Message, StringComparison.Ordinal);
    }
}
