using System.Diagnostics;
using Cocoon.Agent.Connection;
using Cocoon.Agent.Inference;
using Cocoon.Agent.ModelRuns;
using Cocoon.Agent.Options;
using Cocoon.Shared.Work;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.Work;

/// <summary>Runs queued units one at a time on the device and puts each outcome in the outbox.</summary>
public sealed class WorkExecutor(
    WorkInbox queue,
    ResultOutbox outbox,
    PortalConnection portal,
    InferenceDevice device,
    ModelUnitRunner modelRunner,
    IOptions<AgentOptions> options,
    ILogger<WorkExecutor> logger) : BackgroundService
{
    private static readonly long ProgressInterval = Stopwatch.Frequency / 4;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var runner = new UnitRunner(device, options.Value.BatchMemoryBytes);
        await foreach (var assignment in queue.ReadAllAsync(stoppingToken))
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(queue.TokenFor(assignment.LeaseId), stoppingToken);
            try
            {
                portal.TrySendProgress(new UnitProgress { LeaseId = assignment.LeaseId, Done = 0, Total = assignment.ItemCount });
                var lastSent = Stopwatch.GetTimestamp();
                void Report(int done, int total)
                {
                    var now = Stopwatch.GetTimestamp();
                    if (done == total || now - lastSent >= ProgressInterval)
                    {
                        lastSent = now;
                        portal.TrySendProgress(new UnitProgress { LeaseId = assignment.LeaseId, Done = done, Total = total });
                    }
                }

                var result = assignment.ModelRun is not null
                    ? await Task.Run(() => modelRunner.RunAsync(assignment, Report, linked.Token), linked.Token)
                    : await Task.Run(() => runner.Run(assignment, Report, linked.Token), linked.Token);

                outbox.Add(result);
                if (result.Verified)
                {
                    // A digest of sealed output says nothing about its contents; a matrix digest is public by design.
                    logger.LogInformation("Unit {Index} of job {JobId} done: {Gflops:N2} GFLOP/s, digest {Digest}",
                        assignment.UnitIndex, assignment.JobId, result.Gflops, result.OutputDigest[..12]);
                }
                else
                {
                    logger.LogError("Unit {Index} of job {JobId}: the device's output differs from the C# reference", assignment.UnitIndex, assignment.JobId);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException)
            {
                logger.LogInformation("Unit {Index} of job {JobId} cancelled by the portal", assignment.UnitIndex, assignment.JobId);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Unit {Index} of job {JobId} failed", assignment.UnitIndex, assignment.JobId);
                outbox.Add(new UnitFailure
                {
                    LeaseId = assignment.LeaseId,
                    Reason = ex is Inference.ModelException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}",
                    ModelError = ex is Inference.ModelException,
                });
            }
            finally
            {
                queue.Complete(assignment.LeaseId);
            }

            portal.Wake();
        }
    }
}
