using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;

namespace Cocoon.Agent.Cli;

/// <summary>
/// <c>cocoon-agent bench</c>: the reference models at batch 1 and 32 on each device of this machine
/// (the CPU kernels and every GPU kind present, or the one <c>--device</c> names) — latency p50/p90,
/// throughput, GFLOP/s, peak live activations, the memory plan's arena and allocation per run — and per device the score the
/// portal shows for the agent (the geometric mean of the models' GFLOP/s at batch 32).
/// </summary>
public static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var seconds = new Option<double>("--seconds") { Description = "Least time spent timing each model and batch (default 2)." };
        var device = DeviceOption.Create(DeviceOption.Description + " Default: the CPU and every GPU present.");
        var command = new Command("bench", "Time the reference models (MLP, CNN, transformer block) on this machine's devices.") { json, seconds, device };
        command.SetAction(parse => Run(parse.GetValue(json), parse.GetValue(seconds) is > 0 and var s ? s : 2, parse.GetValue(device)));
        return command;
    }

    private static int Run(bool json, double seconds, string? device)
    {
        var reports = new List<ModelBenchmark.Report>();
        foreach (var choice in device is null ? InferenceDevice.Present() : [device])
        {
            try
            {
                using var target = InferenceDevice.Open(choice);
                reports.Add(ModelBenchmark.Measure(seconds, target));
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine($"cocoon-agent: --device {choice}: {ex.Message}");
                return 2;
            }
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(reports, Json));
            return 0;
        }

        var c = CultureInfo.InvariantCulture;
        foreach (var report in reports)
        {
            Console.WriteLine($"device: {report.Device}");
            Console.WriteLine($"{"model",-12}{"batch",6}{"p50 ms",10}{"p90 ms",10}{"rows/s",11}{"GFLOP/s",9}{"live MiB",10}{"arena MiB",11}{"MiB/run",9}{"runs",6}");
            foreach (var r in report.Rows)
            {
                Console.WriteLine(string.Create(c, $"{r.Model,-12}{r.Batch,6}{r.P50Ms,10:N2}{r.P90Ms,10:N2}{r.RowsPerSecond,11:N0}{r.Gflops,9:N2}{r.PeakLiveMiB,10:N1}{r.ArenaMiB,11:N1}{r.AllocatedMiBPerRun,9:N1}{r.Runs,6}"));
            }

            Console.WriteLine(string.Create(c, $"score: {report.Score:N2} (geometric mean GFLOP/s at batch 32); peak working set {report.PeakWorkingSetMiB:N0} MiB"));
            Console.WriteLine();
        }

        return 0;
    }
}
