using System.Diagnostics;
using System.Globalization;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Benchmarks;

/// <summary>
/// Dispatch decisions with many agents registered, through the real portal (Release build, PostgreSQL,
/// Hangfire): N agents are written straight into its database, online, each with a connection id no
/// client holds (so the pushes go nowhere and no agent ever answers), and one job of U units is
/// submitted. Every unit then needs a decision among all N agents, none freed by a result: measured
/// is submit → U leases, so decisions per second and their mean time on one of the dispatch steps
/// running side by side.
/// </summary>
public static class DecideRun
{
    public static async Task<int> RunAsync(int agents, int units)
    {
        var c = CultureInfo.InvariantCulture;
        var postgres = new PostgresFixture();
        await postgres.InitializeAsync();
        try
        {
            var db = await postgres.CreateDatabaseAsync("bench_decide");
            await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "bench-decide", new Dictionary<string, string>
            {
                ["Cocoon__Jobs__CanaryPercent"] = "0",
                ["Cocoon__Jobs__AgentTimeoutSeconds"] = "3600",
                ["Cocoon__Jobs__LeaseSeconds"] = "3600",
                ["Logging__LogLevel__Default"] = "Warning",
            });

            var now = DateTimeOffset.UtcNow;
            await using (var ledger = PortalDb.Open(db))
            {
                ledger.ChangeTracker.AutoDetectChangesEnabled = false;
                for (var i = 0; i < agents; i++)
                {
                    ledger.Agents.Add(new RegisteredAgent
                    {
                        Id = Guid.CreateVersion7(),
                        Name = string.Create(c, $"fleet-{i}"),
                        DeviceName = "CPUAccelerator",
                        DeviceKind = DeviceKind.Cpu,
                        MemoryBytes = 16L << 30,
                        ComputeUnits = 8,
                        Capacity = 1,
                        AgentVersion = "bench",
                        ProtocolVersion = 3,
                        ConnectionId = string.Create(c, $"nobody-{i}"),
                        FirstSeenAt = now,
                        LastHeartbeatAt = now.AddMinutes(30),
                    });
                }

                await ledger.SaveChangesAsync();
            }

            await portal.WaitForAgentsOnlineAsync(agents);
            var clock = Stopwatch.StartNew();
            var job = await portal.SubmitAsync(new CreateJobRequest { Name = "decide", MatrixSize = 2, MatrixCount = units, MatricesPerUnit = 1 });
            var leased = 0;
            while (clock.Elapsed < TimeSpan.FromMinutes(10))
            {
                await using var ledger = PortalDb.Open(db);
                leased = await ledger.Leases.CountAsync(l => l.JobId == job.Id);
                if (leased >= units)
                {
                    break;
                }

                await Task.Delay(50);
            }

            clock.Stop();
            int distinct;
            await using (var ledger = PortalDb.Open(db))
            {
                distinct = await ledger.Leases.Where(l => l.JobId == job.Id).Select(l => l.AgentId).Distinct().CountAsync();
            }

            // RequestAsync splits the units into at most eight Hangfire steps that dispatch side by side.
            var steps = Math.Min(8, units);
            Console.WriteLine(string.Create(c, $"{Environment.ProcessorCount} cores; {agents:N0} agents registered and online (capacity 1 each), one job of {units:N0} units"));
            Console.WriteLine("| measure | value |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine(string.Create(c, $"| submit → {leased:N0} units leased (to {distinct:N0} distinct agents) | {clock.Elapsed.TotalSeconds:N1} s |"));
            Console.WriteLine(string.Create(c, $"| dispatch decisions per second | {leased / clock.Elapsed.TotalSeconds:N0} |"));
            Console.WriteLine(string.Create(c, $"| mean time of one decision (with {steps} steps side by side) | {clock.Elapsed.TotalMilliseconds * steps / Math.Max(leased, 1):N1} ms |"));
            return leased >= units && distinct == leased ? 0 : 1;
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }
}
