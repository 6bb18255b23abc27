using System.Diagnostics;
using System.Globalization;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = Cocoon.Agent.Inference.Tensor;

namespace Cocoon.Benchmarks;

/// <summary>
/// Our ONNX engine against ONNX Runtime's CPU provider, same process, same models, same inputs:
/// median latency per reference model at batch 1 and 32, the ratio, and the peak memory of running a
/// 100 MB model relative to its size. Prints tables for docs/BENCHMARKS.md.
/// </summary>
public static class EngineVersusOrt
{
    /// <summary>Turns each engine takes per model and batch.</summary>
    private const int Rounds = 6;

    public static int Run(double seconds)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"{Environment.ProcessorCount} threads, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {seconds:N0} s per measurement"));
        Console.WriteLine(string.Create(c, $"{Rounds} alternating rounds per model and batch; times are the medians of the rounds' medians, the ratio the median of the rounds' ratios (lowest–highest)"));
        Console.WriteLine("| model | batch | Cocoon p50 ms | ORT p50 ms | Cocoon / ORT | Cocoon GFLOP/s | ORT GFLOP/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var reference in ReferenceModels.All)
        {
            var model = OnnxModel.Load(reference.Onnx);
            using var session = new InferenceSession(reference.Onnx);
            foreach (var batch in new[] { 1, 32 })
            {
                var feeds = Feeds(reference, batch);
                var input = feeds[reference.Input];
                void RunOrt()
                {
                    using var results = session.Run([NamedOnnxValue.CreateFromTensor(reference.Input, new DenseTensor<float>(input.Data, input.Shape))]);
                }

                RunOrt();
                var ours = ModelTiming.Measure(model, feeds, 5, TimeSpan.Zero);
                var (o, t, ratios) = TakeTurns(() => model.Run(feeds), RunOrt, seconds);
                Console.WriteLine(string.Create(c,
                    $"| {reference.Name} | {batch} | {o:N3} | {t:N3} | {Median(ratios):N2} ({ratios.Min():N2}–{ratios.Max():N2}) | {ours.Flops / (o / 1e3) / 1e9:N1} | {ours.Flops / (t / 1e3) / 1e9:N1} |"));
            }
        }

        return 0;
    }

    /// <summary>Where our latency goes: time per operator type per reference model and batch, over <paramref name="runs"/> warm runs.</summary>
    public static int Profile(int runs)
    {
        var c = CultureInfo.InvariantCulture;
        foreach (var reference in ReferenceModels.All)
        {
            var model = OnnxModel.Load(reference.Onnx);
            foreach (var batch in new[] { 1, 32 })
            {
                var feeds = Feeds(reference, batch);
                for (var i = 0; i < 5; i++)
                {
                    model.Run(feeds);
                }

                var profile = new OperatorProfile();
                for (var i = 0; i < runs; i++)
                {
                    model.Run(feeds, null, out _, out _, profile);
                }

                Console.WriteLine(string.Create(c, $"{reference.Name} batch {batch}: {profile.Total.TotalMilliseconds / runs:N3} ms a run"));
                foreach (var (op, time, nodes) in profile.Entries)
                {
                    Console.WriteLine(string.Create(c, $"  {op,-22} {time.TotalMilliseconds / runs,9:N3} ms  {nodes / runs,3} nodes"));
                }
            }
        }

        return 0;
    }

    /// <summary>
    /// The same model with and without its memory plan, taking turns in rounds as <see cref="Run"/> does:
    /// what placing activations in the arena changes in latency.
    /// </summary>
    public static int PlanVersusPool(double seconds)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine("| model | batch | planned p50 ms | pooled p50 ms | planned / pooled |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var reference in ReferenceModels.All)
        {
            var planned = OnnxModel.Load(reference.Onnx);
            var pooled = OnnxModel.Load(reference.Onnx);
            pooled.PlanMemory = false;
            foreach (var batch in new[] { 1, 32 })
            {
                var feeds = Feeds(reference, batch);
                ModelTiming.Measure(planned, feeds, 5, TimeSpan.Zero);
                ModelTiming.Measure(pooled, feeds, 5, TimeSpan.Zero);
                var (a, b, ratios) = TakeTurns(() => planned.Run(feeds), () => pooled.Run(feeds), seconds);
                Console.WriteLine(string.Create(c, $"| {reference.Name} | {batch} | {a:N3} | {b:N3} | {Median(ratios):N3} ({ratios.Min():N2}–{ratios.Max():N2}) |"));
            }
        }

        return 0;
    }

    /// <summary>
    /// The memory plan of each reference model and batch: the bytes of all planned values together,
    /// the most alive at one step, the arena the plan needs, and what a planned run still allocates.
    /// </summary>
    public static int Activations()
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine("| model | batch | planned groups | all values MB | most alive at once MB | arena MB | arena / alive | allocated per planned run KB |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var reference in ReferenceModels.All)
        {
            var model = OnnxModel.Load(reference.Onnx);
            foreach (var batch in new[] { 1, 32 })
            {
                var timing = ModelTiming.Measure(model, Feeds(reference, batch), 20, TimeSpan.Zero, 20);
                var m = timing.Memory;
                Console.WriteLine(string.Create(c,
                    $"| {reference.Name} | {batch} | {m.Groups} | {m.SumBytes / 1e6:N3} | {m.PeakLiveBytes / 1e6:N3} | {m.PlanBytes / 1e6:N3} | {(double)m.PlanBytes / Math.Max(1, m.PeakLiveBytes):N2} | {timing.AllocatedBytesPerRun / 1e3:N1} |"));
            }
        }

        return 0;
    }

    /// <summary>Peak resident memory while loading and running a model of about <paramref name="megabytes"/> MB, over the model's size.</summary>
    public static int Memory(int megabytes)
    {
        var width = 2048;
        var layers = Math.Max(1, (int)Math.Round(megabytes * 1e6 / (width * width * 4.0)));
        var random = new Random(4);
        var b = new OnnxGraphBuilder(17).Input("x", "batch", width).AnyOutput("y");
        var x = "x";
        for (var i = 0; i < layers; i++)
        {
            b.Initializer($"w{i}", [width, width], ReferenceModels.Values(random, width * width, 0.02f)).Node("MatMul", [x, $"w{i}"], $"h{i}");
            x = $"h{i}";
        }

        b.Node("Relu", [x], "y");
        var path = Path.Combine(Path.GetTempPath(), "cocoon-bench-big.onnx");
        File.WriteAllBytes(path, b.Build());
        var size = new FileInfo(path).Length;

        // A fresh process loads and runs it: this one still holds the memory that built the model.
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(EngineVersusOrt).Assembly.Location);
        }

        start.ArgumentList.Add("model-memory-run");
        start.ArgumentList.Add(path);
        using var child = Process.Start(start)!;
        var growth = long.Parse(child.StandardOutput.ReadToEnd().Trim(), CultureInfo.InvariantCulture);
        child.WaitForExit();
        File.Delete(path);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model {size / 1e6:N1} MB ({layers} × {width}² float32): peak working set over the process's own baseline {growth / 1e6:N1} MB = {(double)growth / size:N2} × the model"));
        return 0;
    }

    /// <summary>In a fresh process: how far the working set rises above where it started while loading and running the model at batch 8.</summary>
    public static int MemoryRun(string path)
    {
        OnnxModel? model = null;
        var rise = WorkingSetPeak.Rise(() =>
        {
            using (var file = File.OpenRead(path))
            {
                model = OnnxModel.Load(file);
            }

            var width = 2048;
            var feeds = new Dictionary<string, Tensor> { ["x"] = new([8, width], ReferenceModels.Values(new Random(4), 8 * width, 1f)) };

            // The first run is traced, the second runs from its memory plan: both count.
            model.Run(feeds);
            model.Run(feeds);
        }, sampleMilliseconds: 5);
        GC.KeepAlive(model);
        Console.WriteLine(rise);
        return 0;
    }

    /// <summary>A reference model's input at <paramref name="batch"/>, seeded by the batch size.</summary>
    private static Dictionary<string, Tensor> Feeds(ReferenceModel reference, int batch)
    {
        var shape = reference.InputShape(batch);
        return new Dictionary<string, Tensor> { [reference.Input] = new(shape, ReferenceModels.Values(new Random(batch), (int)Tensor.ElementCount(shape), 1f)) };
    }

    /// <summary>
    /// Two runs taking turns in <see cref="Rounds"/> short rounds over <paramref name="seconds"/> in
    /// all: the machine has slow phases that last seconds and move one side's times by half, so each
    /// side's time is the median of its rounds' medians (ms) and the ratio the median of the rounds'.
    /// </summary>
    internal static (double First, double Second, List<double> Ratios) TakeTurns(Action first, Action second, double seconds)
    {
        var round = TimeSpan.FromSeconds(seconds / Rounds);
        List<double> a = [], b = [], ratios = [];
        for (var r = 0; r < Rounds; r++)
        {
            a.Add(Median(ModelTiming.Times(first, 5, round, int.MaxValue)));
            b.Add(Median(ModelTiming.Times(second, 5, round, int.MaxValue)));
            ratios.Add(a[^1] / b[^1]);
        }

        return (Median(a), Median(b), ratios);
    }

    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
