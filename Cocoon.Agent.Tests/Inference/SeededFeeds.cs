using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using Onnx;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Inputs for a model that comes without any (the backend data's light architectures, the openwakeword
/// models): each input at its declared shape, seeded uniform floats in [-1, 1). Symbolic sizes are one
/// second of 16 kHz audio ("samples"), a 512-sample window ("sequence"), else 1; an int64 "sr" is 16000.
/// Shared by the backend suite test and the zoo benchmark.
/// </summary>
internal static class SeededFeeds
{
    public static Dictionary<string, Tensor> For(byte[] bytes, OnnxModel model, int seed = 17)
    {
        var graph = ModelReader.Read(new MemoryStream(bytes)).Model.Graph;
        var random = new Random(seed);
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in model.Inputs)
        {
            var declared = graph.Input.Single(i => i.Name == name).Type.TensorType;
            int[] shape = [.. declared.Shape.Dim.Select(d => d.HasDimValue ? (int)d.DimValue : SymbolicSize(d.DimParam))];
            feeds[name] = declared.ElemType == (int)TensorProto.Types.DataType.Int64
                ? Tensor.OfLongs(shape, [.. Enumerable.Repeat(name == "sr" ? 16000L : 1L, (int)Tensor.ElementCount(shape))])
                : new Tensor(shape, [.. Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => (float)((random.NextDouble() * 2) - 1))]);
        }

        return feeds;
    }

    private static int SymbolicSize(string name) => name switch
    {
        "samples" => 16000,
        "sequence" => 512,
        _ => 1,
    };
}
