using Cocoon.Agent.Connection;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Options;
using Cocoon.Shared.Agents;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.ModelRuns;

/// <summary>
/// Once per start, a short run of the reference models; the score goes to the portal, which shows it
/// on the Agents page so an owner sees what the machine can do (Agent:BenchmarkOnStart turns it off).
/// It measures the device model jobs run on: the agent's GPU, or the CPU kernels.
/// </summary>
public sealed class SelfBenchmark(PortalConnection portal, InferenceDevice device, IOptions<AgentOptions> options, ILogger<SelfBenchmark> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.BenchmarkOnStart)
        {
            return;
        }

        var report = await Task.Run(() => ModelBenchmark.Measure(0.2, device), stoppingToken);
        var benchmark = new AgentBenchmark { Score = report.Score, Device = report.Device };
        logger.LogInformation("Benchmarked the reference models: score {Score:N2} GFLOP/s on {Device}", benchmark.Score, benchmark.Device);
        while (!stoppingToken.IsCancellationRequested && !await portal.TryReportBenchmarkAsync(benchmark, stoppingToken))
        {
            await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
        }
    }
}
