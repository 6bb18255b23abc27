using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// The operators that pick, place, count or rearrange elements by index, the whole Reduce family and
/// the newer activations, each against ONNX Runtime on the CPU kernels, the planned memory and the
/// ILGPU run (where a GPU run reads the values back), with negative indices, ties and empty results.
/// </summary>
public sealed class IndexingOperatorTests
{
    private const int Int64 = 7;

    private static object[] Dims(params int[] shape) => [.. shape.Cast<object>()];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void GatherElements_and_ScatterElements_match_onnx_runtime(long axis)
    {
        var random = new Random(3);
        var data = RandomTensor(random, [3, 4], -2, 2);
        var size = axis == 0 ? 3 : 4;
        var indices = Tensor.OfLongs([2, 3], [.. Enumerable.Range(0, 6).Select(i => (long)((i * 7 % size) - (i % 2 == 0 ? 0 : size)))]);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 3, 4).Typed("i", Int64, 2, 3).AnyOutput("y").Node("GatherElements", ["x", "i"], "y", ("axis", axis)).Build(),
            Feeds(("x", data), ("i", indices)));

        // Distinct targets per line, so "none" has one answer; then every reduction.
        var distinct = Tensor.OfLongs([2, 3], axis == 0 ? [0, 1, 2, 2, 0, 1] : [0, 3, 1, 2, -1, 0]);
        var updates = RandomTensor(random, [2, 3], -1, 1);
        foreach (var reduction in new[] { "none", "add", "mul", "max", "min" })
        {
            OrtReference.AssertSame(
                new OnnxGraphBuilder(18).Input("x", 3, 4).Typed("i", Int64, 2, 3).Input("u", 2, 3).AnyOutput("y")
                    .Node("ScatterElements", ["x", "i", "u"], "y", ("axis", axis), ("reduction", reduction)).Build(),
                Feeds(("x", data), ("i", distinct), ("u", updates)));
        }
    }

    [Fact]
    public void GatherND_and_ScatterND_match_onnx_runtime()
    {
        var random = new Random(4);
        var data = RandomTensor(random, [2, 3, 4], -2, 2);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 2, 3, 4).Typed("i", Int64, 3, 2).AnyOutput("y").Node("GatherND", ["x", "i"], "y").Build(),
            Feeds(("x", data), ("i", Tensor.OfLongs([3, 2], [0, 1, 1, -1, 1, 0]))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 2, 3, 4).Typed("i", Int64, 2, 2, 1).AnyOutput("y").Node("GatherND", ["x", "i"], "y", ("batch_dims", 1L)).Build(),
            Feeds(("x", data), ("i", Tensor.OfLongs([2, 2, 1], [2, 0, 1, 1]))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Typed("x", Int64, 2, 3).Typed("i", Int64, 2, 2).AnyOutput("y").Node("GatherND", ["x", "i"], "y").Build(),
            Feeds(("x", Tensor.OfLongs([2, 3], [1, 2, 3, 4, 5, 6])), ("i", Tensor.OfLongs([2, 2], [1, 2, 0, 0]))));
        foreach (var reduction in new[] { "none", "add", "mul", "max", "min" })
        {
            OrtReference.AssertSame(
                new OnnxGraphBuilder(18).Input("x", 2, 3, 4).Typed("i", Int64, 2, 2).Input("u", 2, 4).AnyOutput("y")
                    .Node("ScatterND", ["x", "i", "u"], "y", ("reduction", reduction)).Build(),
                Feeds(("x", data), ("i", Tensor.OfLongs([2, 2], [1, 2, 0, -1])), ("u", RandomTensor(random, [2, 4], -1, 1))));
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void OneHot_matches_onnx_runtime_with_negative_and_out_of_range_indices(long axis)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(11).Typed("i", Int64, 2, 3).Typed("depth", Int64).Input("values", 2).AnyOutput("y").Node("OneHot", ["i", "depth", "values"], "y", ("axis", axis)).Build(),
            Feeds(("i", Tensor.OfLongs([2, 3], [0, 4, -1, 2, 7, -6])), ("depth", Tensor.OfLongs([], [5])), ("values", new Tensor([2], [-0.5f, 3f]))));
    }

    [Fact]
    public void NonZero_matches_onnx_runtime_including_no_element()
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 3, 4).AnyOutput("y").Node("NonZero", ["x"], "y").Build(),
            Feeds(("x", new Tensor([3, 4], [0, 1, 0, -2, 0, 0, 0, 0, 3, 0, 0.5f, 0]))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 2, 2).AnyOutput("y").Node("NonZero", ["x"], "y").Build(),
            Feeds(("x", new Tensor([2, 2], new float[4]))));
    }

    [Theory]
    [InlineData(-1, 1, 1, 3)]
    [InlineData(0, 0, 1, 2)]
    [InlineData(1, 1, 1, 5)]
    [InlineData(-1, 0, 1, 0)]
    public void TopK_matches_onnx_runtime_with_ties(long axis, long largest, long sorted, long k)
    {
        // Ties on purpose: ONNX keeps the lower index first.
        var x = new Tensor([3, 5], [1, 3, 3, 0, 2, 5, 5, 5, -1, 4, 0, 0, 9, 9, 1]);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(11).Input("x", 3, 5).Typed("k", Int64, 1).AnyOutput("v").AnyOutput("i")
                .Node("TopK", ["x", "k"], ["v", "i"], ("axis", axis), ("largest", largest), ("sorted", sorted)).Build(),
            Feeds(("x", x), ("k", Tensor.OfLongs([1], [Math.Min(k, axis == 0 ? 3 : 5)]))));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(0, 0)]
    [InlineData(1, 2)]
    [InlineData(0, -1)]
    public void Trilu_matches_onnx_runtime(long upper, long k)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(14).Input("x", 2, 3, 4).Typed("k", Int64).AnyOutput("y").Node("Trilu", ["x", "k"], "y", ("upper", upper)).Build(),
            Feeds(("x", RandomTensor(new Random(5), [2, 3, 4], -1, 1)), ("k", Tensor.OfLongs([], [k]))));
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 1, 0)]
    [InlineData(-1, 0, 1)]
    [InlineData(1, 1, 1)]
    public void CumSum_matches_onnx_runtime(long axis, long exclusive, long reverse)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(14).Input("x", 3, 4).Typed("a", Int64).AnyOutput("y").Node("CumSum", ["x", "a"], "y", ("exclusive", exclusive), ("reverse", reverse)).Build(),
            Feeds(("x", RandomTensor(new Random(6), [3, 4], -1, 1)), ("a", Tensor.OfLongs([], [axis]))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(14).Typed("x", Int64, 2, 3).Typed("a", Int64).AnyOutput("y").Node("CumSum", ["x", "a"], "y", ("exclusive", exclusive), ("reverse", reverse)).Build(),
            Feeds(("x", Tensor.OfLongs([2, 3], [1, -2, 3, 4, 5, -6])), ("a", Tensor.OfLongs([], [axis]))));
    }

    [Theory]
    [InlineData(0f, 5f, 1f)]
    [InlineData(1.5f, -3f, -0.7f)]
    [InlineData(2f, 2f, 1f)]
    public void Range_matches_onnx_runtime(float start, float limit, float delta)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(11).Input("s").Input("l").Input("d").AnyOutput("y").Node("Range", ["s", "l", "d"], "y").Build(),
            Feeds(("s", Tensor.Scalar(start)), ("l", Tensor.Scalar(limit)), ("d", Tensor.Scalar(delta))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(11).Typed("s", Int64).Typed("l", Int64).Typed("d", Int64).AnyOutput("y").Node("Range", ["s", "l", "d"], "y").Build(),
            Feeds(("s", Tensor.OfLongs([], [(long)start])), ("l", Tensor.OfLongs([], [(long)limit * 3])), ("d", Tensor.OfLongs([], [delta < 0 ? -2 : 2]))));
    }

    [Theory]
    [InlineData("DCR")]
    [InlineData("CRD")]
    public void DepthToSpace_and_SpaceToDepth_match_onnx_runtime(string mode)
    {
        var random = new Random(8);
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 2, 8, 2, 3).AnyOutput("y").Node("DepthToSpace", ["x"], "y", ("blocksize", 2L), ("mode", mode)).Build(),
            Feeds(("x", RandomTensor(random, [2, 8, 2, 3], -1, 1))));
        OrtReference.AssertSame(
            new OnnxGraphBuilder(13).Input("x", 1, 3, 4, 6).AnyOutput("y").Node("SpaceToDepth", ["x"], "y", ("blocksize", 2L)).Build(),
            Feeds(("x", RandomTensor(random, [1, 3, 4, 6], -1, 1))));
    }

    [Theory]
    [InlineData("ReduceMin")]
    [InlineData("ReduceProd")]
    [InlineData("ReduceL1")]
    [InlineData("ReduceL2")]
    [InlineData("ReduceSumSquare")]
    [InlineData("ReduceLogSum")]
    [InlineData("ReduceLogSumExp")]
    [InlineData("ReduceMean")]
    [InlineData("ReduceMax")]
    public void Every_reduction_matches_onnx_runtime_over_leading_middle_and_all_axes(string op)
    {
        var random = new Random(op.Length);
        var x = RandomTensor(random, [2, 3, 4], 0.2f, 1.5f);
        foreach (var (axes, keep) in new (long[] Axes, long Keep)[] { ([1], 1), ([0, 2], 0), ([-1], 1), ([], 0) })
        {
            var builder = new OnnxGraphBuilder(18).Input("x", 2, 3, 4).AnyOutput("y");
            var model = axes.Length == 0
                ? builder.Node(op, ["x"], "y", ("keepdims", keep)).Build()
                : builder.Longs("axes", [axes.Length], axes).Node(op, ["x", "axes"], "y", ("keepdims", keep)).Build();
            OrtReference.AssertSame(model, Feeds(("x", x)));
        }
    }

    /// <summary>α in [0, 1] takes the vectorised max(x, αx); any other α the element map.</summary>
    [Theory]
    [InlineData(0.3f)]
    [InlineData(1.5f)]
    [InlineData(-0.2f)]
    public void LeakyRelu_with_any_alpha_matches_onnx_runtime(float alpha)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(17).Input("x", Dims(40, 500)).AnyOutput("y").Node("LeakyRelu", ["x"], "y", ("alpha", alpha)).Build(),
            Feeds(("x", RandomTensor(new Random(10), [40, 500], -4, 4))));
    }

    [Theory]
    [InlineData("Mish", 18)]
    [InlineData("Celu", 12)]
    public void Mish_and_Celu_match_onnx_runtime(string op, long opset)
    {
        OrtReference.AssertSame(
            new OnnxGraphBuilder(opset).Input("x", Dims(3, 7)).AnyOutput("y").Node(op, ["x"], "y").Build(),
            Feeds(("x", RandomTensor(new Random(9), [3, 7], -4, 4))));
    }

    /// <summary>Constants of every element type the engine reads, raw and listed, cast to float32 or int64 as ONNX Runtime does.</summary>
    [Theory]
    [InlineData(10, true)]
    [InlineData(10, false)]
    [InlineData(16, true)]
    [InlineData(11, true)]
    [InlineData(11, false)]
    [InlineData(3, true)]
    [InlineData(3, false)]
    [InlineData(2, true)]
    [InlineData(5, false)]
    [InlineData(4, true)]
    [InlineData(12, true)]
    [InlineData(13, false)]
    public void Constants_of_narrow_and_wide_types_read_as_onnx_runtime_reads_them(int dataType, bool raw)
    {
        double[] values = [0, 1.5, -2.25, 3.1, 100.7, -0.001];
        var tensor = new Onnx.TensorProto { DataType = dataType, Dims = { 2, 3 } };
        var unsigned = dataType is 2 or 4 or 12 or 13;
        var integers = values.Select(v => unsigned ? (long)Math.Abs(v) : (long)v).ToArray();
        byte[] Bytes<T>(Func<double, long, T> convert)
            where T : struct => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.Select((v, i) => convert(v, integers[i])).ToArray().AsSpan()).ToArray();
        switch (dataType)
        {
            case 10 when raw: tensor.RawData = Google.Protobuf.ByteString.CopyFrom(Bytes((v, _) => (Half)v)); break;
            case 10: tensor.Int32Data.AddRange(values.Select(v => (int)BitConverter.HalfToUInt16Bits((Half)v))); break;
            case 16: tensor.RawData = Google.Protobuf.ByteString.CopyFrom(Bytes((v, _) => (ushort)(BitConverter.SingleToInt32Bits((float)v) >> 16))); break;
            case 11 when raw: tensor.RawData = Google.Protobuf.ByteString.CopyFrom(Bytes((v, _) => v)); break;
            case 11: tensor.DoubleData.AddRange(values); break;
            case 3 when raw: tensor.RawData = Google.Protobuf.ByteString.CopyFrom(Bytes((_, n) => (sbyte)n)); break;
            case 3 or 5: tensor.Int32Data.AddRange(integers.Select(n => (int)n)); break;
            case 2: tensor.RawData = Google.Protobuf.ByteString.CopyFrom(Bytes((_, n) => (byte)n)); break;
            case 4: tensor.RawData = Google.Protobuf.ByteString.CopyFrom(Bytes((_, n) => (ushort)n)); break;
            case 12: tensor.RawData = Google.Protobuf.ByteString.CopyFrom(Bytes((_, n) => (uint)n)); break;
            default: tensor.Uint64Data.AddRange(integers.Select(n => (ulong)n)); break;
        }

        var to = dataType is 10 or 16 or 11 ? 1L : 7L;
        // A graph needs an input: zero, added to the cast constant.
        OrtReference.AssertSame(
            new OnnxGraphBuilder(19).Typed("zero", (int)to, 1).AnyOutput("y").Node("Constant", [], "c", ("value", tensor)).Node("Cast", ["c"], "f", ("to", to)).Node("Add", ["f", "zero"], "y").Build(),
            Feeds(("zero", to == 1 ? new Tensor([1], [0f]) : Tensor.OfLongs([1], [0]))));
    }

    public static TheoryData<string, int[][]> Equations => new()
    {
        { "ij->ji", [[3, 4]] },
        { "ij->", [[3, 4]] },
        { "ii->i", [[4, 4]] },
        { "ij,jk->ik", [[3, 5], [5, 4]] },
        { "ij,jk", [[3, 5], [5, 4]] },
        { "bij,bjk->bik", [[2, 3, 5], [2, 5, 4]] },
        { "bhqd,bhkd->bhqk", [[2, 3, 4, 5], [2, 3, 6, 5]] },
        { "i,i", [[7], [7]] },
        { "i,j->ij", [[3], [4]] },
        { "ij,ij->ij", [[3, 4], [3, 4]] },
        { "ij,jk,kl->il", [[2, 3], [3, 4], [4, 5]] },
        { "...ii->...i", [[2, 3, 3]] },
        { "...j,j->...", [[2, 3, 4], [4]] },
        { "b...d,bd->b...", [[2, 1, 3, 4], [2, 4]] },
        { "ij,kj->ikj", [[3, 4], [1, 4]] },
        { "abc,cd->", [[2, 3, 4], [4, 5]] },
    };

    [Theory]
    [MemberData(nameof(Equations))]
    public void Einsum_matches_onnx_runtime(string equation, int[][] shapes)
    {
        var random = new Random(equation.Length);
        var builder = new OnnxGraphBuilder(12).AnyOutput("y");
        var feeds = Feeds();
        for (var i = 0; i < shapes.Length; i++)
        {
            builder.Input($"x{i}", [.. shapes[i].Cast<object>()]);
            feeds[$"x{i}"] = RandomTensor(random, shapes[i], -1, 1);
        }

        OrtReference.AssertSame(builder.Node("Einsum", [.. shapes.Select((_, i) => $"x{i}")], "y", ("equation", equation)).Build(), feeds);
    }

    [Theory]
    [InlineData("ij,jk->ik", "subscript 'j' is 5 in one place and 6 in another")]
    [InlineData("ijk,jk->ik", "operand 0 has rank 2")]
    [InlineData("ij,jk->iz", "'z' names no operand's dimension")]
    [InlineData("ij,jk->ii", "repeats a subscript")]
    [InlineData("i1,jk->ik", "is not an Einstein summation")]
    [InlineData("ij->ik,k", "names 1 operand(s); the node has 2")]
    public void Einsum_equations_that_do_not_fit_their_operands_are_refused(string equation, string expected)
    {
        var model = new OnnxGraphBuilder(12).Input("a", 3, 5).Input("b", 6, 4).AnyOutput("y").Node("Einsum", ["a", "b"], "y", ("equation", equation)).Build();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(model).Run(Feeds(("a", new Tensor([3, 5], new float[15])), ("b", new Tensor([6, 4], new float[24])))));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Indices_out_of_range_are_refused_with_the_index_named()
    {
        var model = OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 3, 4).Typed("i", Int64, 1, 2).AnyOutput("y").Node("GatherElements", ["x", "i"], "y", ("axis", 1L)).Build());
        var error = Assert.Throws<ModelException>(() => model.Run(Feeds(("x", new Tensor([3, 4], new float[12])), ("i", Tensor.OfLongs([1, 2], [0, 4])))));
        Assert.Contains("index 4 is out of range", error.Message, StringComparison.Ordinal);

        var topK = OnnxModel.Load(new OnnxGraphBuilder(11).Input("x", 2, 3).Typed("k", Int64, 1).AnyOutput("v").AnyOutput("i").Node("TopK", ["x", "k"], ["v", "i"]).Build());
        error = Assert.Throws<ModelException>(() => topK.Run(Feeds(("x", new Tensor([2, 3], new float[6])), ("k", Tensor.OfLongs([1], [4])))));
        Assert.Contains("K = 4", error.Message, StringComparison.Ordinal);

        error = Assert.Throws<ModelException>(() => OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 1, 5, 2, 2).AnyOutput("y").Node("DepthToSpace", ["x"], "y", ("blocksize", 2L)).Build()));
        Assert.Contains("5 channels", error.Message, StringComparison.Ordinal);
    }
}
