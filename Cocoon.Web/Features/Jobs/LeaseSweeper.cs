using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Hosting.Live;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// Every few seconds: agents gone silent are taken offline and their leases end; expired leases end;
/// jobs whose planning step was lost are planned again, and jobs left running with every unit done are
/// finished; free capacity is offered pending units.
/// Every statement is conditional, so several portal nodes may sweep at once.
/// </summary>
public sealed class LeaseSweeper(
    IDbContextFactory<CocoonDbContext> dbFactory,
    UnitLifecycle lifecycle,
    Dispatcher dispatcher,
    IBackgroundJobClient backgroundJobs,
    LiveUpdates live,
    TimeProvider clock,
    IOptions<JobsOptions> options,
    IOptions<AgentLinkOptions> link,
    ILogger<LeaseSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan PlanTimeout = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SweepSeconds), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Lease sweep failed; retrying on the next tick");
            }
        }
    }

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        List<Guid> silentAgents;
        List<(Guid Lease, Guid Agent, LeaseOutcome Outcome, string Reason)> ending;
        List<Guid> unplanned;
        List<Guid> finished;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var onlineSince = now - link.Value.AgentTimeout;
            silentAgents = await db.Database.SqlQuery<Guid>($"""
                UPDATE agents SET connection_id = NULL
                WHERE connection_id IS NOT NULL AND last_heartbeat_at <= {onlineSince}
                RETURNING id AS "Value"
                """).ToListAsync(cancellationToken);
            // Heartbeats keep a lease from expiring, not from ending: past its deadline, or without
            // progress for too long, it ends as the agent's failure and the unit goes elsewhere.
            var stalledBefore = now - TimeSpan.FromSeconds(options.Value.MaxSilentLeaseSeconds);
            ending = [.. (await db.Leases.AsNoTracking()
                .Where(l => l.EndedAt == null && (l.ExpiresAt < now || silentAgents.Contains(l.AgentId) || l.Deadline < now || l.LastProgressAt < stalledBefore))
                .OrderBy(l => l.ExpiresAt)
                .Take(1000)
                .Select(l => new { l.Id, l.AgentId, l.Deadline, l.LastProgressAt })
                .ToListAsync(cancellationToken))
                .Select(l => silentAgents.Contains(l.AgentId) ? (l.Id, l.AgentId, LeaseOutcome.AgentLost, "The agent went silent.")
                    : l.Deadline < now ? (l.Id, l.AgentId, LeaseOutcome.Failed, "The unit ran past its lease's deadline.")
                    : l.LastProgressAt < stalledBefore ? (l.Id, l.AgentId, LeaseOutcome.Failed, $"The agent reported no progress for {options.Value.MaxSilentLeaseSeconds} s.")
                    : (l.Id, l.AgentId, LeaseOutcome.Expired, "The lease expired without renewal."))];
            var planBefore = now - PlanTimeout;
            unplanned = await db.Jobs.Where(j => j.State == JobState.Pending && j.CreatedAt < planBefore)
                .Select(j => j.Id).ToListAsync(cancellationToken);
            // A routine result finishes its job after it commits: a portal stopped in between leaves it to this.
            finished = await db.Jobs.Where(j => (j.State == JobState.Running || j.State == JobState.Paused)
                    && !db.WorkUnits.Any(u => u.JobId == j.Id && u.State != WorkUnitState.Succeeded))
                .Select(j => j.Id).ToListAsync(cancellationToken);
        }

        foreach (var jobId in finished)
        {
            await lifecycle.FinishIfDoneAsync(jobId, cancellationToken);
        }

        foreach (var agentId in silentAgents)
        {
            logger.LogWarning("Agent {AgentId} went silent; taking it offline", agentId);
        }

        if (silentAgents.Count > 0)
        {
            live.AgentsChanged();
        }

        foreach (var (lease, agent, outcome, reason) in ending)
        {
            await lifecycle.CloseLeaseAsync(lease, agent, outcome, reason, cancellationToken);
            if (outcome == LeaseOutcome.Failed)
            {
                await lifecycle.CancelOnAgentAsync(agent, lease, cancellationToken);
            }
        }

        foreach (var jobId in unplanned)
        {
            backgroundJobs.Enqueue<PlanJob>(job => job.RunAsync(jobId, CancellationToken.None));
        }

        await dispatcher.RequestAsync(cancellationToken);
    }
}
