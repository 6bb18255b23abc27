using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Hosting.Live;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// The Hangfire step that splits a pending job into work units and asks for their dispatch.
/// Safe to run twice: the job row is locked and only a pending job is planned.
/// </summary>
public sealed class PlanJob(IDbContextFactory<CocoonDbContext> dbFactory, Dispatcher dispatcher, LiveUpdates live, TimeProvider clock,
    Microsoft.Extensions.Options.IOptions<JobsOptions> options, ILogger<PlanJob> logger)
{
    public async Task RunAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var job = await JobLock.ExclusiveAsync(db, jobId, cancellationToken);
            if (job is null || job.State != JobState.Pending)
            {
                return;
            }

            var now = clock.GetUtcNow();
            for (var index = 0; index < job.UnitCount; index++)
            {
                var first = (long)index * job.MatricesPerUnit;
                var count = (int)Math.Min(job.MatricesPerUnit, job.MatrixCount - first);
                var canary = IsCanary(job, count);
                for (var replica = 0; replica < Copies(job); replica++)
                {
                    db.WorkUnits.Add(new WorkUnit
                    {
                        Canary = canary,
                        Id = Guid.CreateVersion7(),
                        JobId = job.Id,
                        Index = index,
                        Replica = replica,
                        FirstMatrix = first,
                        MatrixCount = count,
                        State = WorkUnitState.Pending,
                        QueuedAt = now,
                    });
                }
            }

            job.State = JobState.Running;
            job.StartedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            logger.LogInformation("Job {JobId} planned into {Units} units", job.Id, job.UnitCount);
        }

        live.JobChanged(jobId);
        await dispatcher.RequestAsync(cancellationToken);
    }

    /// <summary>
    /// How many agents run a unit (<see cref="CopyVote"/>): the job's redundancy, or 2 for a unit drawn
    /// for a spot check. Drawn here, unpredictably; an agent cannot tell a copy from the unit itself.
    /// </summary>
    private static int Copies(Job job) =>
        job.Kind != JobKind.Model ? 1
        : job.Redundancy > 1 ? job.Redundancy
        : job.SpotCheckPercent > 0 && System.Security.Cryptography.RandomNumberGenerator.GetInt32(100) < job.SpotCheckPercent ? 2
        : 1;

    /// <summary>
    /// Whether the portal will check this matrix unit's result itself: chosen at random here, kept
    /// from the agent, within what the portal's CPU may spend on one (Cocoon:Jobs:MaxCanaryMegaflops).
    /// </summary>
    private bool IsCanary(Job job, int products) =>
        job.Kind == JobKind.MatMul
        && 2.0 * job.MatrixSize * job.MatrixSize * job.MatrixSize * products <= options.Value.MaxCanaryMegaflops * 1e6
        && System.Security.Cryptography.RandomNumberGenerator.GetInt32(100) < options.Value.CanaryPercent;
}
