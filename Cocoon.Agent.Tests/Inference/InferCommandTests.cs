using System.Text;
using Cocoon.Agent.Cli;
using Cocoon.Agent.Inference;

namespace Cocoon.Agent.Tests.Inference;

[Collection(ConsoleCollection.Name)]
public sealed class InferCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cocoon-infer-").FullName;

    [Theory]
    [InlineData(".npz", ".npz", "auto")]
    [InlineData(".safetensors", ".npz", "cpu")]
    [InlineData(".npz", ".safetensors", "ilgpu-cpu")]
    public void Infer_runs_a_model_from_files_and_writes_its_outputs(string inputKind, string outputKind, string device)
    {
        var (model, reference) = TestMlp.Build(4, 6, 3, seed: 8);
        var x = Enumerable.Range(0, 20).Select(i => (float)Math.Cos(i)).ToArray();
        File.WriteAllBytes(Path("m.onnx"), model);
        TensorFiles.Write(Path("in" + inputKind), new Dictionary<string, Tensor> { ["x"] = new([5, 4], x) });

        var (code, output, error) = Capture(() => InferCommand.Run(new FileInfo(Path("m.onnx")), new FileInfo(Path("in" + inputKind)), new FileInfo(Path("out" + outputKind)), device, repeat: 3, profile: true));

        Assert.True(code == 0, error);
        Assert.Contains("median latency", output, StringComparison.Ordinal);
        Assert.Contains(device == "ilgpu-cpu" ? "on ilgpu-cpu:" : "on cpu: SIMD kernels", output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^MatMul +[0-9.]+ ms +[0-9.]+ % +1 node\(s\)$", output);
        var y = TensorFiles.Read(Path("out" + outputKind))["y"];
        Assert.Equal([5, 3], y.Shape);
        OrtReference.AssertClose(reference(x, 5), y.Data, "y");
    }

    [Fact]
    public void Bad_inputs_give_one_line_and_a_non_zero_exit()
    {
        var (model, _) = TestMlp.Build(4, 6, 3, seed: 8);
        File.WriteAllBytes(Path("m.onnx"), model);
        File.WriteAllBytes(Path("cut.onnx"), model[..(model.Length / 3)]);
        TensorFiles.Write(Path("in.npz"), new Dictionary<string, Tensor> { ["z"] = new([1, 4], new float[4]) });
        TensorFiles.Write(Path("ok.npz"), new Dictionary<string, Tensor> { ["x"] = new([1, 4], new float[4]) });
        File.WriteAllText(Path("in.csv"), "1,2,3,4");
        File.WriteAllText(Path("junk.npz"), "not a zip");

        AssertFails(2, "does not exist", () => Infer("missing.onnx", "in.npz"));
        AssertFails(1, "not a valid ONNX file", () => Infer("cut.onnx", "in.npz"));
        AssertFails(1, "has no 'x'", () => Infer("m.onnx", "in.npz"));
        AssertFails(1, ".npz or .safetensors", () => Infer("m.onnx", "in.csv"));
        AssertFails(1, "not an .npz file", () => Infer("m.onnx", "junk.npz"));
        AssertFails(2, "--device tpu: Unknown device 'tpu': use one of auto, cpu, cuda, opencl, ilgpu-cpu.", () => InferCommand.Run(new FileInfo(Path("m.onnx")), new FileInfo(Path("ok.npz")), new FileInfo(Path("o.npz")), "tpu", 0));
    }

    [SkippableFact]
    public void Asking_for_a_gpu_the_machine_lacks_names_what_it_has()
    {
        using (var context = Cocoon.Agent.Compute.DeviceCatalog.CreateContext())
        {
            Skip.If(context.Devices.Any(d => d.AcceleratorType == ILGPU.Runtime.AcceleratorType.Cuda), "This machine has CUDA; the message under test cannot arise.");
        }

        var (model, _) = TestMlp.Build(4, 6, 3, seed: 8);
        File.WriteAllBytes(Path("m.onnx"), model);
        TensorFiles.Write(Path("ok.npz"), new Dictionary<string, Tensor> { ["x"] = new([1, 4], new float[4]) });
        AssertFails(2, "--device cuda: No cuda device is available on this machine (it has: cpu, ", () => InferCommand.Run(new FileInfo(Path("m.onnx")), new FileInfo(Path("ok.npz")), new FileInfo(Path("o.npz")), "cuda", 0));
        Assert.False(File.Exists(Path("o.npz")));
    }

    [Fact]
    public void Npz_and_safetensors_keep_every_type_and_read_what_numpy_writes()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["f"] = new([2, 3], [1, 2, 3, 4, 5, 6]),
            ["i"] = Tensor.OfLongs([3], [-1, 0, long.MaxValue]),
            ["b"] = Tensor.OfBools([2, 1], [true, false]),
            ["scalar"] = Tensor.Scalar(2.5f),
            ["empty"] = new([0, 4], []),
        };
        foreach (var kind in new[] { ".npz", ".safetensors" })
        {
            TensorFiles.Write(Path("all" + kind), tensors);
            var back = TensorFiles.Read(Path("all" + kind));
            foreach (var (name, t) in tensors)
            {
                Assert.Equal(t.Shape, back[name].Shape);
                Assert.Equal(t.Type, back[name].Type);
                Assert.Equal(t.Data, back[name].Data);
                Assert.Equal(t.Longs, back[name].Longs);
                Assert.Equal(t.Bools, back[name].Bools);
            }
        }

        // Headers the way numpy.save writes them: float64 and int32 arrive as float32 and int64.
        var f8 = Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", [.. BitConverter.GetBytes(1.5), .. BitConverter.GetBytes(-2.0)]);
        Assert.Equal([1.5f, -2f], TensorFiles.ReadNpy(f8, "a").Data);
        var i4 = Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }", [.. BitConverter.GetBytes(7), .. BitConverter.GetBytes(-3)]);
        Assert.Equal([7L, -3L], TensorFiles.ReadNpy(i4, "b").Longs);
        var fortran = Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", BitConverter.GetBytes(1f));
        Assert.Contains("Fortran", Assert.Throws<ModelException>(() => TensorFiles.ReadNpy(fortran, "c")).Message, StringComparison.Ordinal);
        var shortData = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", BitConverter.GetBytes(1f));
        Assert.Contains("needs 12", Assert.Throws<ModelException>(() => TensorFiles.ReadNpy(shortData, "d")).Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Npy(string header, byte[] data)
    {
        var padded = ((10 + header.Length + 1 + 63) / 64 * 64) - 10;
        var text = header.PadRight(padded - 1) + "\n";
        return [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)padded, 0, .. Encoding.Latin1.GetBytes(text), .. data];
    }

    private int Infer(string model, string input) =>
        InferCommand.Run(new FileInfo(Path(model)), new FileInfo(Path(input)), new FileInfo(Path("out.npz")), "auto", 0);

    private static void AssertFails(int expectedCode, string expectedText, Func<int> run)
    {
        var (code, _, error) = Capture(run);
        Assert.Equal(expectedCode, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cocoon-agent: ", line, StringComparison.Ordinal);
        Assert.Contains(expectedText, line, StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="run"/> with the console's output and error captured (tests that use it share the console collection).</summary>
    internal static (int Code, string Output, string Error) Capture(Func<int> run)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (originalOut, originalError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (run(), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
    }

    private string Path(string name) => System.IO.Path.Combine(_dir, name);
}
