using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Work;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Benchmarks;

/// <summary>
/// The dispatcher measured through the real portal (Release build, PostgreSQL, Hangfire, SignalR) with
/// N scripted agents (real pairings and SignalR clients, in this process) that answer each unit at once
/// with its true digest, so dispatch is what is measured, not compute: submit → first unit assigned
/// (median of 9 one-unit jobs), and units per second over a job of many one-product 2×2 units.
/// </summary>
public static class DispatchRun
{
    public static async Task<int> RunAsync(int agents, int capacity, int units)
    {
        var c = CultureInfo.InvariantCulture;
        var postgres = new PostgresFixture();
        await postgres.InitializeAsync();
        try
        {
            var db = await postgres.CreateDatabaseAsync("bench_dispatch");
            await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "bench-dispatch", new Dictionary<string, string>
            {
                ["Cocoon__Jobs__CanaryPercent"] = "0",
                ["Logging__LogLevel__Default"] = "Warning",
            });
            var fleet = new List<ScriptedAgent>();
            for (var i = 0; i < agents; i++)
            {
                fleet.Add(await ScriptedAgent.StartAsync(portal, $"sim-{i}", capacity: capacity));
            }

            await portal.WaitForAgentsOnlineAsync(agents);
            using var stop = new CancellationTokenSource();
            var assigned = new System.Collections.Concurrent.ConcurrentDictionary<Guid, long>();
            var workers = fleet.Select(agent => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if (await agent.TryNextAssignmentAsync(TimeSpan.FromMilliseconds(200)) is { } a)
                    {
                        assigned.TryAdd(a.JobId, Stopwatch.GetTimestamp());
                        await agent.CompleteAsync(a);
                    }
                }
            })).ToList();

            // Latency: one-unit jobs, submit → its unit assigned to an agent (this process's clock).
            var latencies = new List<double>();
            for (var i = 0; i < 9; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var job = await portal.SubmitAsync(new CreateJobRequest { Name = "latency", MatrixSize = 2, MatrixCount = 1, MatricesPerUnit = 1 });
                await Eventually.HoldsAsync(() => Task.FromResult(assigned.ContainsKey(job.Id)), TimeSpan.FromSeconds(30), "the unit to be assigned", 1);
                latencies.Add(Stopwatch.GetElapsedTime(started, assigned[job.Id]).TotalMilliseconds);
                await portal.WaitForJobAsync(job.Id, TimeSpan.FromSeconds(30));
            }

            // Throughput: many tiny units.
            var clock = Stopwatch.StartNew();
            var big = await portal.SubmitAsync(new CreateJobRequest { Name = "throughput", MatrixSize = 2, MatrixCount = units, MatricesPerUnit = 1 });
            var done = await portal.WaitForJobAsync(big.Id, TimeSpan.FromMinutes(10));
            clock.Stop();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
            foreach (var agent in fleet)
            {
                await agent.DisposeAsync();
            }

            latencies.Sort();
            Console.WriteLine(string.Create(c, $"{Environment.ProcessorCount} cores; {agents} scripted agents × capacity {capacity}"));
            Console.WriteLine("| measure | value |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine(string.Create(c, $"| submit → first unit assigned, p50 of 9 | {latencies[4]:N0} ms |"));
            Console.WriteLine(string.Create(c, $"| submit → first unit assigned, max of 9 | {latencies[^1]:N0} ms |"));
            Console.WriteLine(string.Create(c, $"| {units} units, submit → job {done.State} | {clock.Elapsed.TotalSeconds:N1} s ({units / clock.Elapsed.TotalSeconds:N0} units/s) |"));
            return done.State == JobState.Succeeded ? 0 : 1;
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }
}
