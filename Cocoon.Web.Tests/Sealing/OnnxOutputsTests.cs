using Cocoon.Agent.Inference.Graph;
using Cocoon.Web.Tests.Infrastructure;
using Onnx;

namespace Cocoon.Web.Tests.Sealing;

/// <summary>
/// The browser reads a model's output elements per row from its protobuf before sealing it (run here
/// with node), which bounds what an agent may upload for a unit. Checked against Google.Protobuf's
/// reading of the same files: ONNX's own backend-test models (exported from PyTorch) and models built here.
/// </summary>
public sealed class OnnxOutputsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cocoon-onnx-outputs-").FullName;

    [Fact]
    public async Task The_browser_and_the_protobuf_library_agree_on_exported_models()
    {
        var models = Directory.EnumerateFiles(Path.Combine(Repo.Root, "Cocoon.Agent.Tests", "TestData", "onnx-backend"), "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.True(models.Count > 100, $"{models.Count} backend-test models");

        var (code, output, error) = await Node.RunAsync("test/sealing.mjs", ["outputs", .. models]);
        Assert.True(code == 0, error);
        var answers = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(models.Count, answers.Length);
        var disagreements = models.Zip(answers).Where(p => p.Second != Expected(p.First)).Select(p => $"{p.First}: browser {p.Second}, protobuf {Expected(p.First)}").ToList();
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
        Assert.Contains(answers, a => a != "null");
    }

    [Fact]
    public async Task Symbolic_trailing_dimensions_give_no_bound_and_garbage_is_refused()
    {
        var builder = new OnnxGraphBuilder();
        builder.Input("x", "N", 4);
        builder.Output("fixed", "N", 3, 5);
        builder.Output("symbolic", "N", "K");
        builder.Node("Identity", ["x"], ["fixed"]);
        builder.Node("Identity", ["x"], ["symbolic"]);
        var path = Path.Combine(_dir, "model.onnx");
        await File.WriteAllBytesAsync(path, builder.Build());
        var garbage = Path.Combine(_dir, "garbage.onnx");
        // Field 1, length-delimited, with a length varint that never ends.
        await File.WriteAllBytesAsync(garbage, [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        var empty = Path.Combine(_dir, "empty.onnx");
        await File.WriteAllBytesAsync(empty, [0x08, 0x07]);

        var (_, output, _) = await Node.RunAsync("test/sealing.mjs", "outputs", path, garbage, empty);
        var answers = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("null", answers[0]);
        Assert.StartsWith("error: This is not an ONNX model", answers[1], StringComparison.Ordinal);
        Assert.StartsWith("error: This is not an ONNX model (it has no graph)", answers[2], StringComparison.Ordinal);
    }

    /// <summary>What Google.Protobuf's reading of the model says: Σ over outputs of the product of dimensions after the first, or "null".</summary>
    private static string Expected(string path)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        long total = 0;
        foreach (var output in model.Graph.Output)
        {
            if (output.Type?.TensorType?.Shape is not { } shape)
            {
                return "null";
            }

            long elements = 1;
            foreach (var dim in shape.Dim.Skip(1))
            {
                if (dim.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || dim.DimValue <= 0)
                {
                    return "null";
                }

                elements *= dim.DimValue;
            }

            total += elements;
        }

        return total.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
