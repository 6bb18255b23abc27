using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Graph;
using Google.Protobuf;
using Onnx;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// The model reader: weights read straight into their arrays (so a model's weights are held once),
/// every tensor type and field order protobuf allows, and files that lie about their lengths refused
/// without allocating what they claim.
/// </summary>
public sealed class ModelReaderTests
{
    [Fact]
    public void Loading_a_model_allocates_its_weights_once()
    {
        // Four 4 MB weights; parsing with protobuf and converting had allocated each one twice.
        var random = new Random(3);
        var builder = new OnnxGraphBuilder(17).Input("x", "batch", 1024).AnyOutput("y");
        var previous = "x";
        for (var i = 0; i < 4; i++)
        {
            builder.Initializer($"w{i}", [1024, 1024], ReferenceModels.Values(random, 1024 * 1024, 0.03f)).Node("MatMul", [previous, $"w{i}"], $"h{i}");
            previous = $"h{i}";
        }

        var bytes = builder.Node("Relu", [previous], "y").Build();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var model = OnnxModel.Load(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 4 * 4_194_304 * 1.1, $"loading 16.8 MB of weights allocated {allocated:N0} bytes");
        Assert.True(allocated >= 4 * 4_194_304, $"the weights cannot have been read into {allocated:N0} bytes");
        var x = RandomTensor(random, [2, 1024], -1, 1);
        Assert.Equal(OnnxModel.Load(bytes).Run(Feeds(("x", x)))["y"].Data, model.Run(Feeds(("x", x)))["y"].Data);
    }

    [Fact]
    public void Raw_data_of_every_type_in_any_field_order_reads_as_protobuf_would()
    {
        // Initializers of int64 (a Reshape target), int32 and bool (Cast to float), float listed rather
        // than raw, and a float32 weight whose raw bytes come before its type and shape in the file.
        var model = new OnnxGraphBuilder(14).Input("x", 2, 3).AnyOutput("y").AnyOutput("i").AnyOutput("b").AnyOutput("l")
            .Longs("shape", [2], [1, 4])
            .Node("MatMul", ["x", "w"], "m").Node("Reshape", ["m", "shape"], "y")
            .Node("Cast", ["ints"], "i", ("to", 1L)).Node("Cast", ["bools"], "b", ("to", 1L)).Node("Add", ["x", "listed"], "l")
            .Build();
        var proto = ModelProto.Parser.ParseFrom(model);
        proto.Graph.Initializer.Add(new TensorProto { Name = "ints", DataType = 6, Dims = { 3 }, RawData = ByteString.CopyFrom([1, 0, 0, 0, 255, 255, 255, 255, 7, 0, 0, 0]) });
        proto.Graph.Initializer.Add(new TensorProto { Name = "bools", DataType = 9, Dims = { 5 }, RawData = ByteString.CopyFrom([1, 0, 1, 1, 0]) });
        proto.Graph.Initializer.Add(new TensorProto { Name = "listed", DataType = 1, Dims = { 3 }, FloatData = { 0.5f, -1f, 2f } });

        // w: the raw bytes as one message, shape, type and name as another; protobuf reads the two
        // concatenated as one tensor with its fields in that order.
        float[] values = [1, 2, 3, 4, 5, 6];
        var weight = new TensorProto { RawData = ByteString.CopyFrom([.. values.SelectMany(BitConverter.GetBytes)]) }.ToByteArray()
            .Concat(new TensorProto { Name = "w", DataType = 1, Dims = { 3, 2 } }.ToByteArray()).ToArray();
        var graph = proto.Graph.ToByteArray().Concat(Field(5, weight)).ToArray();
        proto.Graph = null;
        var bytes = proto.ToByteArray().Concat(Field(7, graph)).ToArray();

        var x = new Tensor([2, 3], [1, 0, -1, 2, 1, 0]);
        var outputs = OnnxModel.Load(bytes).Run(Feeds(("x", x)));
        // x · w = [[1 − 5, 2 − 6], [2 + 3, 4 + 4]], reshaped to [1, 4].
        Assert.Equal([1, 4], outputs["y"].Shape);
        Assert.Equal([-4f, -4f, 5f, 8f], outputs["y"].Data);
        Assert.Equal([1f, -1f, 7f], outputs["i"].Data);
        Assert.Equal([1f, 0f, 1f, 1f, 0f], outputs["b"].Data);
        Assert.Equal([1.5f, -1f, 1f, 2.5f, 0f, 2f], outputs["l"].Data);
    }

    [Theory]
    [InlineData("graph")]
    [InlineData("raw data")]
    public void Lengths_past_the_end_of_the_file_are_refused_without_allocating_them(string liar)
    {
        // A gigabyte claimed in a file of a few hundred bytes: by the graph, or, inside a graph and an
        // initializer whose own lengths are true, by the initializer's raw data.
        byte[] bytes;
        if (liar == "graph")
        {
            bytes = [.. Varint((7 << 3) | 2), .. Varint(1L << 30), .. new byte[200]];
        }
        else
        {
            byte[] tensor = [.. Varint((9 << 3) | 2), .. Varint(1L << 30), .. new byte[200]];
            bytes = Field(7, Field(5, tensor));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(bytes));
        Assert.Contains("a field longer than the message holding it", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    private static byte[] Field(int number, byte[] payload) => [.. Varint((number << 3) | 2), .. Varint(payload.Length), .. payload];

    private static byte[] Varint(long value)
    {
        var bytes = new List<byte>();
        for (; value >= 0x80; value >>= 7)
        {
            bytes.Add((byte)(value | 0x80));
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }
}
