using System.Diagnostics;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Bench;

/// <summary>Latencies of repeated runs of one model on one input, after a warm-up run, and how the last run used memory.</summary>
public sealed record ModelTiming(IReadOnlyList<double> Milliseconds, long Flops, long AllocatedBytesPerRun, long PeakLiveBytes, MemoryReport Memory)
{
    public double Median => Percentile(0.5);

    public double P90 => Percentile(0.9);

    public double Gflops => Flops / (Median / 1e3) / 1e9;

    public double Percentile(double p)
    {
        var sorted = Milliseconds.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];
    }

    /// <summary>
    /// Runs once to warm up, then <paramref name="minRuns"/> times or until <paramref name="minTime"/> has
    /// passed (at most <paramref name="maxRuns"/>), on <paramref name="device"/> (null: the CPU kernels).
    /// </summary>
    public static ModelTiming Measure(OnnxModel model, IReadOnlyDictionary<string, Tensor> feeds, int minRuns, TimeSpan minTime, int maxRuns = 1000, InferenceDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Run(feeds, device?.Gpu, out var flops, out var peak);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var times = Times(() => model.Run(feeds, device?.Gpu, out _, out _), minRuns, minTime, maxRuns);
        return new ModelTiming(times, flops, (GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / Math.Max(times.Count, 1), peak, model.LastRunMemory);
    }

    /// <summary>Milliseconds of each run of <paramref name="run"/>: at least <paramref name="minRuns"/>, and until <paramref name="minTime"/> has passed, at most <paramref name="maxRuns"/>.</summary>
    public static IReadOnlyList<double> Times(Action run, int minRuns, TimeSpan minTime, int maxRuns = 1000)
    {
        ArgumentNullException.ThrowIfNull(run);
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < maxRuns && (times.Count < minRuns || total.Elapsed < minTime))
        {
            var one = Stopwatch.StartNew();
            run();
            times.Add(one.Elapsed.TotalMilliseconds);
        }

        return times;
    }
}
