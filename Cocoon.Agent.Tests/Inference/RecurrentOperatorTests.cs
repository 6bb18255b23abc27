using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// RNN, GRU and LSTM against ONNX Runtime: each direction, both layouts, biases and initial states,
/// per-sequence lengths, LSTM's peepholes and coupled gates, GRU's reset before or after its product,
/// clipping and named activation functions.
/// </summary>
public sealed class RecurrentOperatorTests
{
    private const int Sequence = 5;
    private const int Batch = 3;
    private const int InputSize = 4;
    private const int Hidden = 6;

    public static TheoryData<string, string, long, bool, bool> Layers()
    {
        var data = new TheoryData<string, string, long, bool, bool>();
        foreach (var op in new[] { "RNN", "GRU", "LSTM" })
        {
            data.Add(op, "forward", 0, false, false);
            data.Add(op, "reverse", 0, true, true);
            data.Add(op, "bidirectional", 0, true, false);
            data.Add(op, "bidirectional", 1, true, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Recurrent_layers_match_onnx_runtime(string op, string direction, long layout, bool withState, bool withLengths)
    {
        var gates = op switch { "RNN" => 1, "GRU" => 3, _ => 4 };
        var directions = direction == "bidirectional" ? 2 : 1;
        var random = new Random(op.Length + (int)layout + directions);
        int[] xShape = layout == 0 ? [Sequence, Batch, InputSize] : [Batch, Sequence, InputSize];
        int[] stateShape = layout == 0 ? [directions, Batch, Hidden] : [Batch, directions, Hidden];
        var builder = new OnnxGraphBuilder(14).Input("x", [.. xShape.Cast<object>()]).AnyOutput("y").AnyOutput("y_h")
            .Initializer("w", [directions, gates * Hidden, InputSize], Values(random, directions * gates * Hidden * InputSize))
            .Initializer("r", [directions, gates * Hidden, Hidden], Values(random, directions * gates * Hidden * Hidden))
            .Initializer("b", [directions, 2 * gates * Hidden], Values(random, directions * 2 * gates * Hidden));
        var feeds = Feeds(("x", RandomTensor(random, xShape, -1, 1)));
        List<string> inputs = ["x", "w", "r", "b", withLengths ? "lengths" : "", withState ? "h0" : ""];
        if (withLengths)
        {
            builder.Typed("lengths", 6, Batch);
            feeds["lengths"] = Tensor.OfLongs([Batch], [Sequence, 2, 4]);
        }

        if (withState)
        {
            builder.Input("h0", [.. stateShape.Cast<object>()]);
            feeds["h0"] = RandomTensor(random, stateShape, -1, 1);
        }

        string[] outputs = ["y", "y_h"];
        if (op == "LSTM")
        {
            builder.AnyOutput("y_c");
            outputs = ["y", "y_h", "y_c"];
            if (withState)
            {
                builder.Input("c0", [.. stateShape.Cast<object>()]).Initializer("p", [directions, 3 * Hidden], Values(random, directions * 3 * Hidden));
                feeds["c0"] = RandomTensor(random, stateShape, -1, 1);
                inputs.AddRange(["c0", "p"]);
            }
        }

        List<(string, object)> attributes = [("hidden_size", (long)Hidden), ("direction", direction), ("layout", layout)];
        if (op == "GRU")
        {
            attributes.Add(("linear_before_reset", withState ? 1L : 0L));
        }

        var model = builder.Node(op, [.. inputs], outputs, [.. attributes]).Build();
        if (layout == 0)
        {
            OrtReference.AssertSame(model, feeds, "lengths");
            return;
        }

        // ONNX Runtime's CPU kernels refuse layout 1: compare with the same layer between transposes.
        var reference = new OnnxGraphBuilder(14).Input("x", [.. xShape.Cast<object>()]).Input("h0", [.. stateShape.Cast<object>()])
            .Node("Transpose", ["x"], "xt", ("perm", new long[] { 1, 0, 2 })).Node("Transpose", ["h0"], "h0t", ("perm", new long[] { 1, 0, 2 }));
        foreach (var (name, shape, values) in Weights(model))
        {
            reference.Initializer(name, shape, values);
        }

        if (op == "LSTM")
        {
            reference.Input("c0", [.. stateShape.Cast<object>()]).Node("Transpose", ["c0"], "c0t", ("perm", new long[] { 1, 0, 2 }));
        }

        string[] referenceInputs = [.. inputs.Select(i => i is "x" or "h0" or "c0" ? i + "t" : i)];
        reference.Node(op, referenceInputs, [.. outputs.Select(o => o + "t")], [.. attributes.Where(a => a.Item1 != "layout")])
            .Node("Transpose", ["yt"], "y", ("perm", new long[] { 2, 0, 1, 3 })).Node("Transpose", ["y_ht"], "y_h", ("perm", new long[] { 1, 0, 2 }));
        reference.AnyOutput("y").AnyOutput("y_h");
        if (op == "LSTM")
        {
            reference.Node("Transpose", ["y_ct"], "y_c", ("perm", new long[] { 1, 0, 2 })).AnyOutput("y_c");
        }

        var expected = OrtReference.Run(reference.Build(), feeds);
        var actual = OnnxModel.Load(model).Run(feeds);
        foreach (var output in outputs)
        {
            Assert.Equal(expected[output].Shape, actual[output].Shape);
            OrtReference.AssertClose(expected[output].Data, actual[output].Data, output);
        }
    }

    /// <summary>The initializers of a built model, to build another over the same weights.</summary>
    private static IEnumerable<(string Name, int[] Shape, float[] Values)> Weights(byte[] model) =>
        Onnx.ModelProto.Parser.ParseFrom(model).Graph.Initializer.Select(i => (i.Name, i.Dims.Select(d => (int)d).ToArray(), i.FloatData.Count > 0 ? i.FloatData.ToArray() : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(i.RawData.Span).ToArray()));

    [Theory]
    [InlineData("RNN")]
    [InlineData("GRU")]
    [InlineData("LSTM")]
    public void Clipping_and_named_activations_match_onnx_runtime(string op)
    {
        var gates = op switch { "RNN" => 1, "GRU" => 3, _ => 4 };
        var random = new Random(21);
        string[] activations = op switch
        {
            "RNN" => ["LeakyRelu"],
            "GRU" => ["HardSigmoid", "Softsign"],
            _ => ["HardSigmoid", "Tanh", "Softsign"],
        };
        List<(string, object)> attributes = [("hidden_size", (long)Hidden), ("clip", 0.8f), ("activations", activations), ("activation_alpha", new[] { 0.3f }), ("activation_beta", new[] { 0.4f })];
        if (op == "LSTM")
        {
            attributes.Add(("input_forget", 1L));
        }

        var model = new OnnxGraphBuilder(14).Input("x", Sequence, Batch, InputSize).AnyOutput("y")
            .Initializer("w", [1, gates * Hidden, InputSize], Values(random, gates * Hidden * InputSize))
            .Initializer("r", [1, gates * Hidden, Hidden], Values(random, gates * Hidden * Hidden))
            .Node(op, ["x", "w", "r"], "y", [.. attributes]).Build();
        OrtReference.AssertSame(model, Feeds(("x", RandomTensor(random, [Sequence, Batch, InputSize], -2, 2))));
    }

    [Fact]
    public void A_recurrent_layer_whose_weights_disagree_with_its_hidden_size_is_refused_at_load()
    {
        var random = new Random(2);
        var model = new OnnxGraphBuilder(14).Input("x", Sequence, Batch, InputSize).AnyOutput("y")
            .Initializer("w", [1, 4 * Hidden, InputSize], Values(random, 4 * Hidden * InputSize))
            .Initializer("r", [1, 4 * Hidden, Hidden], Values(random, 4 * Hidden * Hidden))
            .Node("LSTM", ["x", "w", "r"], "y", ("hidden_size", (long)Hidden + 1)).Build();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(model));
        Assert.Contains("hidden_size", error.Message, StringComparison.Ordinal);
    }

    private static float[] Values(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => ((float)random.NextDouble() - 0.5f) * 0.8f)];
}
