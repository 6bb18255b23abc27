using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>Convolutions, pooling, padding and resizing against ONNX Runtime.</summary>
public sealed class SpatialOperatorTests
{
    private static readonly Random Random = new(77);

    public static TheoryData<string, int, int[], (string, object)[]> ConvCases => new()
    {
        { "plain 3×3", 1, [1, 3, 7, 6], [] },
        { "strided, padded, biased", 1, [2, 4, 9, 8], [("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 0, 2, 1 })] },
        { "dilated", 1, [1, 2, 10, 10], [("dilations", new long[] { 2, 3 })] },
        { "grouped", 2, [1, 4, 6, 6], [("pads", new long[] { 1, 1, 1, 1 })] },
        { "depthwise", 4, [2, 4, 5, 5], [("strides", new long[] { 1, 2 })] },
        { "same upper", 1, [1, 3, 7, 5], [("auto_pad", "SAME_UPPER"), ("strides", new long[] { 2, 2 })] },
        { "same lower", 1, [1, 3, 6, 6], [("auto_pad", "SAME_LOWER")] },

        // Stride 1 with output rows as wide as the input's: unfolded by shifting whole planes.
        { "shifted planes, dilated", 1, [1, 2, 7, 9], [("dilations", new long[] { 2, 2 }), ("pads", new long[] { 2, 2, 2, 2 })] },
        { "shifted planes, uneven vertical padding", 1, [2, 3, 5, 6], [("pads", new long[] { 0, 1, 3, 1 })] },
        { "shifted planes, taps wider than the image", 1, [1, 2, 4, 4], [("dilations", new long[] { 3, 3 }), ("pads", new long[] { 3, 3, 3, 3 })] },
        { "shifted planes, grouped", 2, [1, 4, 6, 5], [("pads", new long[] { 1, 1, 1, 1 })] },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv_matches_onnx_runtime(string label, int group, int[] input, (string, object)[] attributes)
    {
        var filters = 6 - (6 % group);
        int[] weight = [filters, input[1] / group, 3, 3];
        var model = new OnnxGraphBuilder(17).Input("x", [.. input.Cast<object>()]).Input("w", [.. weight.Cast<object>()]).Input("b", filters).AnyOutput("y")
            .Node("Conv", ["x", "w", "b"], "y", [("group", (long)group), .. attributes]).Build();
        Assert.NotEmpty(label);
        OrtReference.AssertSame(model, Feeds(("x", RandomTensor(Random, input, -1, 1)), ("w", RandomTensor(Random, weight, -1, 1)), ("b", RandomTensor(Random, [filters], -1, 1))));
    }

    /// <summary>Conv → BatchNormalization → Relu, which load-time fusion turns into one convolution, with and without a conv bias.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_fused_conv_batch_norm_relu_matches_onnx_runtime(bool convBias)
    {
        var builder = new OnnxGraphBuilder(17).Input("x", 2, 4, 7, 6).AnyOutput("y")
            .Initializer("w", [5, 4, 3, 3], RandomTensor(Random, [5, 4, 3, 3], -1, 1).Data)
            .Initializer("s", [5], RandomTensor(Random, [5], 0.5f, 2).Data).Initializer("b", [5], RandomTensor(Random, [5], -1, 1).Data)
            .Initializer("m", [5], RandomTensor(Random, [5], -1, 1).Data).Initializer("v", [5], RandomTensor(Random, [5], 0.5f, 2).Data)
            .Initializer("cb", [5], RandomTensor(Random, [5], -1, 1).Data)
            .Node("Conv", convBias ? ["x", "w", "cb"] : ["x", "w"], "c", ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("BatchNormalization", ["c", "s", "b", "m", "v"], "n", ("epsilon", 1e-3f)).Node("Relu", ["n"], "y");
        OrtReference.AssertSame(builder.Build(), Feeds(("x", RandomTensor(Random, [2, 4, 7, 6], -1, 1))));
    }

    /// <summary>A 1×1 kernel (read without unfolding) and a batch big enough that each core takes whole images.</summary>
    [Theory]
    [InlineData(new[] { 3, 6, 5, 7 }, new[] { 8, 6, 1, 1 }, 1)]
    [InlineData(new[] { 4, 8, 32, 32 }, new[] { 16, 8, 3, 3 }, 1)]
    [InlineData(new[] { 6, 8, 20, 20 }, new[] { 8, 4, 3, 3 }, 2)]
    public void Pointwise_and_batched_convolutions_match_onnx_runtime(int[] input, int[] weight, int group)
    {
        var model = new OnnxGraphBuilder(17).Input("x", [.. input.Cast<object>()]).Input("w", [.. weight.Cast<object>()]).Input("b", weight[0]).AnyOutput("y")
            .Node("Conv", ["x", "w", "b"], "y", ("group", (long)group), ("pads", new long[] { weight[2] / 2, weight[3] / 2, weight[2] / 2, weight[3] / 2 })).Build();
        OrtReference.AssertSame(model, Feeds(("x", RandomTensor(Random, input, -1, 1)), ("w", RandomTensor(Random, weight, -1, 1)), ("b", RandomTensor(Random, [weight[0]], -1, 1))));
    }

    /// <summary>
    /// Stride-1 convolutions with filters in eights and output rows in eights, which run straight from a
    /// padded copy of the image (DirectConv): a first layer split across cores by filter blocks, eight-wide
    /// rows (two rows a step), a 3×5 kernel with uneven padding in groups, no bias, a fused Relu, a batch.
    /// </summary>
    [Theory]
    [InlineData(new[] { 1, 3, 32, 32 }, new[] { 16, 3, 3, 3 }, 1, new long[] { 1, 1, 1, 1 }, true, false)]
    [InlineData(new[] { 2, 6, 8, 8 }, new[] { 8, 6, 3, 3 }, 1, new long[] { 1, 1, 1, 1 }, true, true)]
    [InlineData(new[] { 1, 4, 8, 16 }, new[] { 16, 2, 3, 5 }, 2, new long[] { 0, 2, 2, 2 }, true, false)]
    [InlineData(new[] { 5, 2, 6, 16 }, new[] { 24, 2, 3, 3 }, 1, new long[] { 2, 1, 0, 1 }, false, true)]
    public void Direct_stride_one_convolutions_match_onnx_runtime(int[] input, int[] weight, int group, long[] pads, bool withBias, bool relu)
    {
        var builder = new OnnxGraphBuilder(17).Input("x", [.. input.Cast<object>()]).AnyOutput("y")
            .Initializer("w", weight, RandomTensor(Random, weight, -1, 1).Data).Initializer("b", [weight[0]], RandomTensor(Random, [weight[0]], -1, 1).Data)
            .Node("Conv", withBias ? ["x", "w", "b"] : ["x", "w"], relu ? "c" : "y", ("group", (long)group), ("pads", pads));
        if (relu)
        {
            builder.Node("Relu", ["c"], "y");
        }

        OrtReference.AssertSame(builder.Build(), Feeds(("x", RandomTensor(Random, input, -1, 1))));
    }

    /// <summary>
    /// A direct convolution whose weights are a graph input, not an initializer: the caller may change
    /// them in place between runs, so they must be repacked every run (only a model's own weights are
    /// packed once and kept).
    /// </summary>
    [Fact]
    public void A_direct_convolution_repacks_weights_fed_as_an_input_every_run()
    {
        int[] input = [1, 4, 8, 16];
        int[] weight = [8, 4, 3, 3];
        var bytes = new OnnxGraphBuilder(17).Input("x", [.. input.Cast<object>()]).Input("w", [.. weight.Cast<object>()]).AnyOutput("y")
            .Node("Conv", ["x", "w"], "y", ("pads", new long[] { 1, 1, 1, 1 })).Build();
        var model = OnnxModel.Load(bytes);
        var feeds = Feeds(("x", RandomTensor(Random, input, -1, 1)), ("w", RandomTensor(Random, weight, -1, 1)));
        model.Run(feeds);

        RandomTensor(Random, weight, -1, 1).Data.CopyTo(feeds["w"].Data, 0);
        OrtReference.AssertSame(bytes, feeds);
        Assert.Equal(OnnxModel.Load(bytes).Run(feeds)["y"].Data, model.Run(feeds)["y"].Data);
    }

    [Theory]
    [InlineData(1, new long[] { 1, 1 }, new long[] { 0, 0, 0, 0 }, new long[] { 0, 0 })]
    [InlineData(1, new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, new long[] { 1, 1 })]
    [InlineData(2, new long[] { 2, 1 }, new long[] { 0, 1, 0, 1 }, new long[] { 0, 0 })]
    public void ConvTranspose_matches_onnx_runtime(int group, long[] strides, long[] pads, long[] outputPadding)
    {
        int[] input = [2, 4, 5, 4];
        int[] weight = [4, 3, 3, 2];
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", [.. input.Cast<object>()]).Input("w", [.. weight.Cast<object>()]).Input("b", 3 * group).AnyOutput("y")
                .Node("ConvTranspose", ["x", "w", "b"], "y", ("group", (long)group), ("strides", strides), ("pads", pads), ("output_padding", outputPadding)).Build(),
            Feeds(("x", RandomTensor(Random, input, -1, 1)), ("w", RandomTensor(Random, weight, -1, 1)), ("b", RandomTensor(Random, [3 * group], -1, 1))));
    }

    /// <summary>A decoder's upsampling ConvTranspose (4×4, stride 2), large enough that output channels split across cores, and a dilated one.</summary>
    [Theory]
    [InlineData(new[] { 1, 16, 12, 10 }, new[] { 16, 8, 4, 4 }, 2L, 1L, 1L)]
    [InlineData(new[] { 2, 3, 6, 7 }, new[] { 3, 2, 3, 3 }, 1L, 2L, 0L)]
    public void Upsampling_and_dilated_transposed_convolutions_match_onnx_runtime(int[] input, int[] weight, long stride, long dilation, long pad)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", [.. input.Cast<object>()]).Input("w", [.. weight.Cast<object>()]).AnyOutput("y")
                .Node("ConvTranspose", ["x", "w"], "y", ("strides", new[] { stride, stride }), ("dilations", new[] { dilation, dilation }), ("pads", new[] { pad, pad, pad, pad })).Build(),
            Feeds(("x", RandomTensor(Random, input, -1, 1)), ("w", RandomTensor(Random, weight, -1, 1))));
    }

    /// <summary>
    /// A single image with enough work to split: each core unfolds and multiplies its own band of
    /// output rows (an odd number of rows, so the bands differ), through the shifted-plane unfolding,
    /// the general one (stride 2), no unfolding (1×1) and groups.
    /// </summary>
    [Theory]
    [InlineData(3, 1, 1, 1)]
    [InlineData(3, 2, 1, 1)]
    [InlineData(1, 1, 0, 1)]
    [InlineData(3, 1, 1, 2)]
    public void One_large_image_split_into_bands_of_rows_matches_onnx_runtime(int kernel, int stride, int pad, int group)
    {
        int[] input = [1, 16, 31, 29];
        int[] weight = [24, 16 / group, kernel, kernel];
        var model = new OnnxGraphBuilder(17).Input("x", [.. input.Cast<object>()]).Input("w", [.. weight.Cast<object>()]).Input("b", 24).AnyOutput("y")
            .Node("Conv", ["x", "w", "b"], "y", ("group", (long)group), ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad })).Build();
        OrtReference.AssertSame(model, Feeds(("x", RandomTensor(Random, input, -1, 1)), ("w", RandomTensor(Random, weight, -1, 1)), ("b", RandomTensor(Random, [24], -1, 1))));
    }

    [Fact]
    public void Pools_match_onnx_runtime()
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", 2, 3, 9, 7).AnyOutput("max").AnyOutput("ceil").AnyOutput("avg").AnyOutput("avgpad").AnyOutput("global").AnyOutput("dilated")
                .Node("MaxPool", ["x"], "max", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }))
                .Node("MaxPool", ["x"], "ceil", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1L))
                .Node("AveragePool", ["x"], "avg", ("kernel_shape", new long[] { 3, 2 }), ("pads", new long[] { 1, 0, 1, 1 }))
                .Node("AveragePool", ["x"], "avgpad", ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }), ("count_include_pad", 1L), ("strides", new long[] { 2, 2 }))
                .Node("GlobalAveragePool", ["x"], "global")
                .Node("MaxPool", ["x"], "dilated", ("kernel_shape", new long[] { 2, 2 }), ("dilations", new long[] { 2, 2 })).Build(),
            Feeds(("x", RandomTensor(Random, [2, 3, 9, 7], -2, 2))));
    }

    [Theory]
    [InlineData(2, 3, 19, 35)] // odd sizes: the last input row and column are never read, one column after the vectors
    [InlineData(4, 16, 130, 66)] // over 64 K outputs: planes split across cores
    [InlineData(1, 1, 2, 2)]
    public void Max_pool_2x2_stride_2_matches_onnx_runtime(int n, int channels, int height, int width) =>
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", n, channels, height, width).AnyOutput("y")
                .Node("MaxPool", ["x"], "y", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 })).Build(),
            Feeds(("x", RandomTensor(Random, [n, channels, height, width], -2, 2))));

    [Fact]
    public void Instance_normalization_matches_onnx_runtime()
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", 2, 3, 5, 4).Input("s", 3).Input("b", 3).AnyOutput("y").Node("InstanceNormalization", ["x", "s", "b"], "y", ("epsilon", 1e-4f)).Build(),
            Feeds(("x", RandomTensor(Random, [2, 3, 5, 4], -3, 3)), ("s", RandomTensor(Random, [3], 0.5f, 2)), ("b", RandomTensor(Random, [3], -1, 1))));
    }

    [Theory]
    [InlineData("constant", 18)]
    [InlineData("reflect", 18)]
    [InlineData("edge", 18)]
    [InlineData("constant", 11)]
    [InlineData("reflect", 9)]
    public void Pad_matches_onnx_runtime(string mode, int opset)
    {
        var x = RandomTensor(Random, [2, 3, 4], -1, 1);
        var builder = new OnnxGraphBuilder(opset).Input("x", 2, 3, 4).AnyOutput("y");
        long[] pads = [0, 2, 1, 1, 1, 3];
        if (opset >= 11)
        {
            builder.Longs("p", [6], pads).Node("Pad", mode == "constant" ? ["x", "p", "v"] : ["x", "p"], "y", ("mode", mode));
            if (mode == "constant")
            {
                builder.Input("v");
            }
        }
        else
        {
            builder.Node("Pad", ["x"], "y", ("mode", mode), ("pads", pads));
        }

        var feeds = Feeds(("x", x));
        if (mode == "constant" && opset >= 11)
        {
            feeds["v"] = Tensor.Scalar(0.75f);
        }

        OrtReference.AssertSame(builder.Build(), feeds);
    }

    [Theory]
    [InlineData("nearest", "half_pixel", "round_prefer_floor", 2f)]
    [InlineData("nearest", "asymmetric", "floor", 1.7f)]
    [InlineData("nearest", "align_corners", "round_prefer_ceil", 2.5f)]
    [InlineData("linear", "half_pixel", "round_prefer_floor", 1.5f)]
    [InlineData("linear", "align_corners", "round_prefer_floor", 3f)]
    [InlineData("linear", "pytorch_half_pixel", "round_prefer_floor", 0.6f)]
    [InlineData("linear", "asymmetric", "round_prefer_floor", 2f)]
    public void Resize_with_scales_matches_onnx_runtime(string mode, string transform, string nearest, float factor)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 1, 2, 5, 4).Input("scales", 4).AnyOutput("y")
                .Node("Resize", ["x", "", "scales"], "y", ("mode", mode), ("coordinate_transformation_mode", transform), ("nearest_mode", nearest)).Build(),
            Feeds(("x", RandomTensor(Random, [1, 2, 5, 4], -1, 1)), ("scales", new Tensor([4], [1, 1, factor, factor]))));
    }

    [Fact]
    public void Resize_to_sizes_and_in_opset_10_matches_onnx_runtime()
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 1, 1, 4, 6).Longs("sizes", [4], [1, 1, 7, 3]).AnyOutput("y")
                .Node("Resize", ["x", "", "", "sizes"], "y", ("mode", "linear")).Build(),
            Feeds(("x", RandomTensor(Random, [1, 1, 4, 6], -1, 1))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(10).Input("x", 1, 1, 3, 3).Input("scales", 4).AnyOutput("y").Node("Resize", ["x", "scales"], "y", ("mode", "nearest")).Build(),
            Feeds(("x", RandomTensor(Random, [1, 1, 3, 3], -1, 1)), ("scales", new Tensor([4], [1, 1, 2, 3]))));
    }
}
