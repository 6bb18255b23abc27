using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Hosting.Live;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// The Hangfire step that splits a pending job into work units and asks for their dispatch.
/// Safe to run twice: the job row is locked and only a pending job is planned.
/// </summary>
public sealed class PlanJob(IDbContextFactory<CocoonDbContext> dbFactory, Dispatcher dispatcher, LiveUpdates live, TimeProvider clock, ILogger<PlanJob> logger)
{
    public async Task RunAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var job = await db.Jobs.FromSql($"SELECT * FROM jobs WHERE id = {jobId} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
            if (job is null || job.State != JobState.Pending)
            {
                return;
            }

            var now = clock.GetUtcNow();
            for (var index = 0; index < job.UnitCount; index++)
            {
                var first = (long)index * job.MatricesPerUnit;
                db.WorkUnits.Add(new WorkUnit
                {
                    Id = Guid.CreateVersion7(),
                    JobId = job.Id,
                    Index = index,
                    FirstMatrix = first,
                    MatrixCount = (int)Math.Min(job.MatricesPerUnit, job.MatrixCount - first),
                    State = WorkUnitState.Pending,
                    QueuedAt = now,
                });
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
}
