using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace Cocoon.Benchmarks;

/// <summary>
/// The ceiling the issue measures dispatch against: how fast a plain Hangfire.PostgreSql queue, set up
/// as the portal sets it up (long polling, the portal's worker count), drains no-op jobs on this machine.
/// </summary>
public static class HangfireDrain
{
    /// <summary>Enqueues <paramref name="jobs"/> no-op jobs, then starts a server and times it until all have succeeded.</summary>
    public static async Task<double> JobsPerSecondAsync(string connectionString, int jobs)
    {
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, new PostgreSqlStorageOptions()), new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire_drain",
            PrepareSchemaIfNecessary = true,
            EnableLongPolling = true,
            InvisibilityTimeout = TimeSpan.FromMinutes(5),
        });
        var client = new BackgroundJobClient(storage);
        for (var i = 0; i < jobs; i++)
        {
            client.Enqueue(() => NoOp());
        }

        var monitor = storage.GetMonitoringApi();
        var clock = Stopwatch.StartNew();
        using (new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = Math.Max(4, Environment.ProcessorCount * 4) }, storage))
        {
            while (monitor.SucceededListCount() < jobs)
            {
                await Task.Delay(20);
            }
        }

        clock.Stop();
        return jobs / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The job: nothing.</summary>
    public static void NoOp()
    {
    }
}
