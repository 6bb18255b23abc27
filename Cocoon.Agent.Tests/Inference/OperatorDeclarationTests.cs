using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Operators;
using Onnx;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Each operator's declaration refuses what does not fit it — attributes it does not have, of the wrong
/// type, out of range, or disagreeing with the shapes they meet — with a <see cref="ModelException"/>
/// naming the node and what is wrong: at load where the shapes are known then, before the kernel otherwise.
/// </summary>
public sealed class OperatorDeclarationTests
{
    private static Tensor Floats(params int[] shape) => new(shape, new float[Tensor.ElementCount(shape)]);

    /// <summary>A Conv whose kernel_shape says 3×3 while its weight is 1×1 (with pads 1): the direct kernel would have walked 9× past the packed weights.</summary>
    [Fact]
    public void A_conv_whose_kernel_shape_disagrees_with_its_weight_is_refused_at_load_and_before_the_kernel()
    {
        (string, object)[] lying = [("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 })];
        var constantWeight = new OnnxGraphBuilder(17).Input("x", 1, 4, 8, 8).Initializer("w", [8, 4, 1, 1], new float[32]).AnyOutput("y")
            .Node("Conv", ["x", "w"], "y", lying).Build();
        var atLoad = Assert.Throws<ModelException>(() => OnnxModel.Load(constantWeight)).Message;
        Assert.Contains("Conv (node 'conv_0')", atLoad, StringComparison.Ordinal);
        Assert.Contains("kernel_shape [3, 3] does not match the weight's [1, 1] window", atLoad, StringComparison.Ordinal);

        // A weight fed as an input is known only at run time: refused there, before the kernel reads it.
        var fedWeight = OnnxModel.Load(new OnnxGraphBuilder(17).Input("x", 1, 4, 8, 8).Input("w", "m", "c", "kh", "kw").AnyOutput("y")
            .Node("Conv", ["x", "w"], "y", lying).Build());
        var atRun = Assert.Throws<ModelException>(() => fedWeight.Run(new Dictionary<string, Tensor> { ["x"] = Floats(1, 4, 8, 8), ["w"] = Floats(8, 4, 1, 1) })).Message;
        Assert.Contains("Conv (node 'conv_0'): kernel_shape [3, 3] does not match", atRun, StringComparison.Ordinal);

        // The honest 3×3 weight runs.
        Assert.Equal([1, 8, 8, 8], fedWeight.Run(new Dictionary<string, Tensor> { ["x"] = Floats(1, 4, 8, 8), ["w"] = Floats(8, 4, 3, 3) })["y"].Shape);
    }

    public static TheoryData<string, Func<OnnxGraphBuilder, OnnxGraphBuilder>, string> RefusedAtLoad => new()
    {
        { "an attribute the operator does not have", b => b.Node("Relu", ["x"], "y", ("alpha", 0.5f)), "Relu has no attribute 'alpha'" },
        { "an attribute of the engine's own fusion", b => b.Node("Conv", ["x", "w"], "y", ("cocoon.pool", 2L)), "attribute 'cocoon.pool' belongs to the engine's own fusion" },
        { "a fused activation set by the model", b => b.Node("Conv", ["x", "w"], "y", ("cocoon.activation", "Relu")), "attribute 'cocoon.activation' belongs to the engine's own fusion" },
        { "an attribute given twice", b => b.Node("Conv", ["x", "w"], "y", ("group", 1L), ("group", 1L)), "attribute 'group' is given twice" },
        { "an attribute of the wrong type", b => b.Node("Conv", ["x", "w"], "y", ("group", "two")), "attribute 'group' is String; the operator takes Int" },
        { "a string outside its allowed values", b => b.Node("Conv", ["x", "w"], "y", ("auto_pad", "SAME_MIDDLE")), "attribute 'auto_pad' is 'SAME_MIDDLE'; it must be one of NOTSET, SAME_UPPER, SAME_LOWER, VALID" },
        { "a stride of zero", b => b.Node("Conv", ["x", "w"], "y", ("strides", new long[] { 0, 1 })), "attribute 'strides' holds 0; each value must be from 1 to" },
        { "a negative pad", b => b.Node("Conv", ["x", "w"], "y", ("pads", new long[] { -1, 0, 0, 0 })), "attribute 'pads' holds -1" },
        { "strides of the wrong rank", b => b.Node("Conv", ["x", "w"], "y", ("strides", new long[] { 1, 1, 1 })), "strides has 3 values; a 2-D window takes 2" },
        { "a group that does not divide the filters", b => b.Node("Conv", ["x", "w"], "y", ("group", 3L)), "8 filters do not split into 3 groups" },
        { "a group of zero", b => b.Node("Conv", ["x", "w"], "y", ("group", 0L)), "attribute 'group' is 0; it must be from 1 to" },
        { "a bias of the wrong length", b => b.Initializer("b", [5], new float[5]).Node("Conv", ["x", "w", "b"], "y"), "the bias's length and the filters are 5 and 8" },
        { "too many inputs", b => b.Node("Relu", ["x", "w"], "y"), "Relu takes 1 inputs; the node names 2" },
        { "a transA of 2", b => b.Initializer("m", [4, 4], new float[16]).Node("Gemm", ["m", "m"], "y", ("transA", 2L)), "attribute 'transA' is 2; it must be from 0 to 1" },
        { "a perm that is not a permutation", b => b.Node("Transpose", ["x"], "y", ("perm", new long[] { 0, 1, 1, 3 })), "is not a permutation of 4 axes" },
        { "an axis out of range", b => b.Node("Softmax", ["x"], "y", ("axis", 4L)), "axis 4 is out of range for rank 4" },
        { "a Gather axis out of range", b => b.Longs("i", [1], [0]).Node("Gather", ["x", "i"], "y", ("axis", -5L)), "axis -5 is out of range for rank 4" },
        { "two -1 entries in a Reshape", b => b.Longs("s", [2], [-1, -1]).Node("Reshape", ["x", "s"], "y"), "is not a valid Reshape target" },
        { "split sizes that do not add up", b => b.Longs("s", [2], [1, 1]).Node("Split", ["x", "s"], ["y", "z"], ("axis", 1L)), "do not add up to dimension 1" },
        { "negative Tile repeats", b => b.Longs("r", [4], [1, 1, -1, 1]).Node("Tile", ["x", "r"], "y"), "non-negative repeats" },
        { "a Resize to a negative size", b => b.Longs("s", [4], [1, 4, -8, 8]).Node("Resize", ["x", "", "", "s"], "y"), "size -8 is impossible" },
        { "a MaxPool without kernel_shape", b => b.Node("MaxPool", ["x"], "y"), "kernel_shape is required" },
        { "batch norm parameters of the wrong length", b => b.Initializer("p", [3], new float[3]).Node("BatchNormalization", ["x", "p", "p", "p", "p"], "y"), "the channels and input 1's length are 3 and 4" },
        { "an operator newer than the model's opset", b => b.Node("Gelu", ["x"], "y"), "this agent implements Gelu from opset 20; the model imports opset 17" },
        { "an initializer of 2^64 elements with no data", b => b.Longs("huge", [65536, 65536, 65536, 65536], []).Node("Reshape", ["x", "huge"], "y"), "would exceed" },
    };

    [Theory]
    [MemberData(nameof(RefusedAtLoad))]
    public void Inconsistent_nodes_are_refused_at_load_naming_the_node(string label, Func<OnnxGraphBuilder, OnnxGraphBuilder> node, string expected)
    {
        var builder = new OnnxGraphBuilder(17).Input("x", 1, 4, 8, 8).Initializer("w", [8, 4, 3, 3], new float[288]).AnyOutput("y");
        var message = Assert.Throws<ModelException>(() => OnnxModel.Load(node(builder).Build())).Message;
        Assert.NotEmpty(label);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.True(message.Contains("(node '", StringComparison.Ordinal) || message.Contains("Initializer '", StringComparison.Ordinal), message);
    }

    /// <summary>Values only a run knows (shapes and sizes fed as inputs) go through the same rules before the kernel.</summary>
    [Fact]
    public void Sizes_fed_at_run_time_go_through_the_same_rules_before_the_kernel()
    {
        var resize = OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 1, 1, 4, 4).Typed("sizes", 7, 4).AnyOutput("y").Node("Resize", ["x", "", "", "sizes"], "y").Build());
        var message = Assert.Throws<ModelException>(() => resize.Run(new Dictionary<string, Tensor>
        {
            ["x"] = Floats(1, 1, 4, 4),
            ["sizes"] = Tensor.OfLongs([4], [1, 1, -3, 4]),
        })).Message;
        Assert.Contains("Resize (node 'resize_0'): size -3 is impossible", message, StringComparison.Ordinal);

        var expand = OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 1, 4).Typed("shape", 7, 3).AnyOutput("y").Node("Expand", ["x", "shape"], "y").Build());
        message = Assert.Throws<ModelException>(() => expand.Run(new Dictionary<string, Tensor> { ["x"] = Floats(1, 4), ["shape"] = Tensor.OfLongs([3], [1 << 16, 1 << 16, 4]) })).Message;
        Assert.Contains("Expand (node 'expand_0')", message, StringComparison.Ordinal);
        Assert.Contains("would exceed", message, StringComparison.Ordinal);

        var types = OnnxModel.Load(new OnnxGraphBuilder(13).Typed("x", 7, 2).AnyOutput("y").Node("Relu", ["x"], "y").Build());
        message = Assert.Throws<ModelException>(() => types.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.OfLongs([2], [1, 2]) })).Message;
        Assert.Contains("Relu (node 'relu_0'): input 0 is Int64; Relu takes Float32 there", message, StringComparison.Ordinal);
    }

    /// <summary>Found in review: each was a way past a tensor's own elements, or a valid model refused.</summary>
    [Fact]
    public void Review_findings_stay_fixed()
    {
        // Clip's min as an empty tensor the arena places next to other values: refused, not read.
        var clip = OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 2, 4).Longs("s", [1], [0]).Longs("e", [1], [0]).AnyOutput("y")
            .Node("Slice", ["x", "s", "e"], "m").Node("Clip", ["x", "m"], "y").Build());
        Assert.Contains("min and max must hold one value", Assert.Throws<ModelException>(() => clip.Run(new Dictionary<string, Tensor> { ["x"] = Floats(2, 4) })).Message, StringComparison.Ordinal);

        // Pad's axes input before opset 18: the kernel and the rule would have read it differently.
        var pad = new OnnxGraphBuilder(13).Input("x", 1, 8).Longs("p", [4], [0, 3, 0, 0]).Longs("a", [2], [0, 0]).AnyOutput("y").Node("Pad", ["x", "p", "", "a"], "y").Build();
        Assert.Contains("axes input from opset 18", Assert.Throws<ModelException>(() => OnnxModel.Load(pad)).Message, StringComparison.Ordinal);

        // Window arithmetic that wraps 32 bits.
        var pool = new OnnxGraphBuilder(17).Input("x", 1, 1, 4, 4).AnyOutput("y").Node("MaxPool", ["x"], "y",
            ("kernel_shape", new long[] { 2, 2 }), ("dilations", new long[] { int.MaxValue, 1 }), ("pads", new long[] { int.MaxValue, 0, 1, 0 })).Build();
        Assert.Contains("larger than any tensor", Assert.Throws<ModelException>(() => OnnxModel.Load(pool)).Message, StringComparison.Ordinal);

        // Valid ONNX that must keep loading: trailing empty outputs, long Constant data, LayerNormalization before opset 17.
        OnnxModel.Load(new OnnxGraphBuilder(17).Input("x", 1, 3, 2, 2).Initializer("p", [3], [1, 1, 1]).AnyOutput("y").Node("BatchNormalization", ["x", "p", "p", "p", "p"], ["y", ""]).Build());
        OnnxModel.Load(new OnnxGraphBuilder(17).Input("x", 100).AnyOutput("y").Node("Constant", [], "c", ("value_ints", Enumerable.Range(0, 100).Select(i => (long)i).ToArray())).Node("Add", ["x", "x"], "y").Build());
        OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 2, 8).Initializer("g", [8], new float[8]).AnyOutput("y").Node("LayerNormalization", ["x", "g"], "y").Build());
    }

    [Fact]
    public void A_run_that_would_exceed_the_memory_budget_is_refused_before_it_allocates_naming_the_peak()
    {
        var model = OnnxModel.Load(ReferenceModels.Mlp().Onnx);
        var input = ReferenceModels.Mlp().Input;
        var feeds = new Dictionary<string, Tensor> { [input] = Floats(ReferenceModels.Mlp().InputShape(64)) };
        model.Run(feeds);
        model.MaxRunMemoryBytes = 4096;
        var message = Assert.Throws<ModelException>(() => model.Run(feeds)).Message;
        Assert.Contains("the model needs at least", message, StringComparison.Ordinal);
        Assert.Contains("this agent's limit is 4,096 (Agent:MaxRunMemoryBytes)", message, StringComparison.Ordinal);

        // Sizes only a run can tell are held to the same budget before each node allocates.
        var tile = OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 1, 256).Typed("r", 7, 2).AnyOutput("y").Node("Tile", ["x", "r"], "y").Build());
        tile.MaxRunMemoryBytes = 1 << 20;
        message = Assert.Throws<ModelException>(() => tile.Run(new Dictionary<string, Tensor> { ["x"] = Floats(1, 256), ["r"] = Tensor.OfLongs([2], [4096, 1]) })).Message;
        Assert.Contains("Tile (node 'tile_0'): the run would hold", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wiped_model_holds_no_weights_and_refuses_to_run()
    {
        var reference = ReferenceModels.Mlp();
        var model = OnnxModel.Load(reference.Onnx);
        var feeds = new Dictionary<string, Tensor> { [reference.Input] = Floats(reference.InputShape(2)) };
        model.Run(feeds);
        Assert.Contains(model.Weights, w => w.Data.Any(v => v != 0));
        model.Wipe();
        Assert.All(model.Weights, w => Assert.All(w.Data, v => Assert.Equal(0f, v)));
        Assert.All(model.KeptActivations, a => Assert.All(a, v => Assert.Equal(0f, v)));
        Assert.Throws<ObjectDisposedException>(() => model.Run(feeds));
    }

    /// <summary>The catalog is complete and consistent: every operator declared once, with its rules.</summary>
    [Fact]
    public void Every_operator_is_declared_once_with_its_shape_rule_and_kernel()
    {
        Assert.True(OperatorCatalog.All.Count >= 58, $"{OperatorCatalog.All.Count} operators");
        foreach (var schema in OperatorCatalog.All)
        {
            Assert.InRange(schema.SinceOpset, 1, OnnxModel.MaxOpset);
            Assert.Equal(schema.Attributes.Count, schema.Attributes.Select(a => a.Name).Distinct(StringComparer.Ordinal).Count());
            Assert.True(schema.Inputs.Min <= schema.Inputs.Max && schema.Outputs.Min <= schema.Outputs.Max, schema.Name);
            Assert.True(schema.InputTypes.Count <= Math.Max(schema.Inputs.Max, 1), $"{schema.Name} types more inputs than it takes");

            // An operator fusion may fold an activation into declares the attribute fusion writes for it.
            Assert.Equal(schema.FusedActivations.Count > 0, schema.Attributes.Contains(FusionAttributes.Activation));
        }

        // Fusion writes its attributes only on the operators that declare them.
        Assert.Contains(OperatorCatalog.Get("Conv").Attributes, a => a is { Name: GraphFusion.Pool, Internal: true });
        Assert.DoesNotContain(OperatorCatalog.Get("Relu").Attributes, a => a.Internal);
        Assert.Equal(AttributeProto.Types.AttributeType.Ints, OperatorCatalog.Get("Conv").Attributes.Single(a => a.Name == "kernel_shape").Type);
    }
}
