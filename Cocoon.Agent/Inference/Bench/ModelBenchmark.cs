using System.Diagnostics;

namespace Cocoon.Agent.Inference.Bench;

/// <summary>
/// The agent's benchmark of itself: the reference models at batch 1 and 32, and the score the portal
/// shows (the geometric mean of the models' GFLOP/s at batch 32).
/// </summary>
public static class ModelBenchmark
{
    /// <param name="ArenaMiB">The memory plan's arena for the model's activations at this batch (CPU runs; 0 on a GPU, whose values live in device memory).</param>
    public sealed record Row(string Model, int Batch, double P50Ms, double P90Ms, double RowsPerSecond, double Gflops, double PeakLiveMiB, double ArenaMiB, double AllocatedMiBPerRun, int Runs);

    public sealed record Report(string Device, IReadOnlyList<Row> Rows, double Score, double PeakWorkingSetMiB);

    public static Report Measure(double seconds, InferenceDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var rows = new List<Row>();
        foreach (var reference in ReferenceModels.All)
        {
            var model = OnnxModel.Load(reference.Onnx);
            foreach (var batch in new[] { 1, 32 })
            {
                var shape = reference.InputShape(batch);
                var input = new Tensor(shape, ReferenceModels.Values(new Random(batch), (int)Tensor.ElementCount(shape), 1f));
                var timing = ModelTiming.Measure(model, new Dictionary<string, Tensor> { [reference.Input] = input }, 5, TimeSpan.FromSeconds(seconds), device: device);
                rows.Add(new Row(reference.Name, batch, timing.Median, timing.P90, batch / (timing.Median / 1e3), timing.Gflops, timing.PeakLiveBytes / 1048576.0,
                    timing.Memory.PlanBytes / 1048576.0, timing.AllocatedBytesPerRun / 1048576.0, timing.Milliseconds.Count));
            }
        }

        var score = Math.Exp(rows.Where(r => r.Batch == 32).Average(r => Math.Log(r.Gflops)));
        using var process = Process.GetCurrentProcess();
        return new Report(device.Name, rows, score, process.PeakWorkingSet64 / 1048576.0);
    }
}
