using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Sequences and strings beyond the backend data's cases: against ONNX Runtime where it can say, and the
/// refusals: a sequence where a tensor belongs, a position outside the sequence, text where numbers belong.
/// </summary>
public sealed class SequenceAndStringTests
{
    [Theory]
    [InlineData(0L, 1L)]
    [InlineData(1L, 0L)]
    public void A_tensor_split_into_a_sequence_and_joined_again_matches_onnx_runtime(long axis, long newAxis)
    {
        // Split into pieces of 2 along the axis (the last one shorter), take the middle piece, insert it at
        // the front, erase the last, and join the rest (stacked along a new axis when the pieces agree).
        var model = new OnnxGraphBuilder(17).Input("x", 5, 6).Typed("two", 7).Typed("one", 7).AnyOutput("middle").AnyOutput("count").AnyOutput("joined")
            .Node("SplitToSequence", ["x", "two"], "pieces", ("axis", axis))
            .Node("SequenceAt", ["pieces", "one"], "middle")
            .Node("SequenceInsert", ["pieces", "middle", "zero"], "more")
            .Node("SequenceErase", ["more"], "fewer")
            .Node("SequenceLength", ["fewer"], "count")
            .Node("ConcatFromSequence", ["fewer"], "joined", ("axis", axis), ("new_axis", newAxis))
            .Longs("zero", [], [0])
            .Build();
        OrtReference.AssertSame(model, Feeds(("x", RandomTensor(new Random(3), [5, 6], -1, 1)), ("two", Tensor.OfLongs([], [2])), ("one", Tensor.OfLongs([], [1]))));
    }

    [Fact]
    public void Sequences_and_strings_are_refused_where_they_do_not_belong()
    {
        var intoAdd = new OnnxGraphBuilder(17).Input("x", 2, 3).AnyOutput("y")
            .Node("SequenceConstruct", ["x", "x"], "s").Node("Add", ["s", "x"], "y").Build();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(intoAdd).Run(Feeds(("x", new Tensor([2, 3], new float[6])))));
        Assert.Contains("Add", error.Message, StringComparison.Ordinal);
        Assert.Contains("Sequence", error.Message, StringComparison.Ordinal);

        var outside = new OnnxGraphBuilder(17).Input("x", 2, 3).Typed("at", 7).AnyOutput("y")
            .Node("SequenceConstruct", ["x", "x"], "s").Node("SequenceAt", ["s", "at"], "y").Build();
        error = Assert.Throws<ModelException>(() => OnnxModel.Load(outside).Run(Feeds(("x", new Tensor([2, 3], new float[6])), ("at", Tensor.OfLongs([], [-3])))));
        Assert.Contains("position -3 is outside a sequence of 2", error.Message, StringComparison.Ordinal);

        var numbers = new OnnxGraphBuilder(10).Input("x", 3).AnyOutput("y").Node("StringNormalizer", ["x"], "y").Build();
        error = Assert.Throws<ModelException>(() => OnnxModel.Load(numbers).Run(Feeds(("x", new Tensor([3], new float[3])))));
        Assert.Contains("StringNormalizer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void String_normalizer_drops_stopwords_ignoring_case_and_changes_case()
    {
        var stopwords = new Onnx.AttributeProto { Name = "stopwords", Type = Onnx.AttributeProto.Types.AttributeType.Strings };
        stopwords.Strings.Add(Google.Protobuf.ByteString.CopyFromUtf8("monday"));
        var builder = new OnnxGraphBuilder(10).Typed("x", 8, 1, 4).AnyOutput("y").Node("StringNormalizer", ["x"], "y", ("case_change_action", "UPPER"));
        var bytes = builder.Build();
        var proto = Onnx.ModelProto.Parser.ParseFrom(bytes);
        proto.Graph.Node[0].Attribute.Add(stopwords);
        var model = OnnxModel.Load(Google.Protobuf.MessageExtensions.ToByteArray(proto));
        var y = model.Run(Feeds(("x", Tensor.OfStrings([1, 4], ["Monday", "tuesday", "MONDAY", "Éclair"]))))["y"];
        Assert.Equal([1, 2], y.Shape);
        Assert.Equal(["TUESDAY", "ÉCLAIR"], y.Strings);

        var all = model.Run(Feeds(("x", Tensor.OfStrings([1, 1], ["monday"]))))["y"];
        Assert.Equal([1, 1], all.Shape);
        Assert.Equal([""], all.Strings);
    }
}
