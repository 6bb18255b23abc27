using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Jobs and their units as the pages and the API show them.</summary>
public sealed class JobQueries(IDbContextFactory<CocoonDbContext> dbFactory, TimeProvider clock, Microsoft.Extensions.Options.IOptions<Agents.AgentLinkOptions> link, Microsoft.Extensions.Options.IOptions<Money.MoneyOptions> money)
{
    public async Task<IReadOnlyList<JobView>> ListAsync(Viewer viewer, int take = 100, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await Project(db, Visible(db, viewer).OrderByDescending(j => j.CreatedAt).Take(take)).ToListAsync(cancellationToken);
    }

    /// <summary>The job, or null when it does not exist or the viewer may not see it; with why its units wait, when they do.</summary>
    public async Task<JobView?> GetAsync(Viewer viewer, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var view = await Project(db, Visible(db, viewer).Where(j => j.Id == id)).SingleOrDefaultAsync(cancellationToken);
        if (view is not { State: JobState.Running })
        {
            return view;
        }

        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, cancellationToken);
        return view with { Waiting = await AgentMatch.WaitingAsync(db, job, clock.GetUtcNow() - link.Value.AgentTimeout, money.Value.DefaultPricePerTflop, cancellationToken) };
    }

    public async Task<IReadOnlyList<WorkUnitView>> UnitsAsync(Viewer viewer, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await Units(db, viewer, jobId).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// One page of the job's units in index order (copies after their unit), and how many there are: a
    /// page reads its rows through the index on (job, index, replica), however large the job.
    /// </summary>
    public async Task<(IReadOnlyList<WorkUnitView> Units, int Total)> UnitsPageAsync(Viewer viewer, Guid jobId, int skip, int take, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var total = await db.WorkUnits.CountAsync(u => u.JobId == jobId && Visible(db, viewer).Any(j => j.Id == u.JobId), cancellationToken);
        var page = await Units(db, viewer, jobId).Skip(Math.Max(skip, 0)).Take(Math.Clamp(take, 1, 500)).ToListAsync(cancellationToken);
        return (page, total);
    }

    /// <summary>
    /// What the progress bar and rates need of a job's units (<see cref="JobProgress"/>), summed by the
    /// database rather than read unit by unit. Call it for a job the viewer may see.
    /// </summary>
    public async Task<UnitTally> TallyAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // Copies run to check a unit are not progress of their own: the unit counts once, when its vote is
        // in; partly done units count in proportion, so the bar moves within long units too.
        return await db.Database.SqlQuery<UnitTally>($"""
            SELECT count(*) FILTER (WHERE state IN ('Leased', 'Running'))::int AS running,
                   coalesce(sum(CASE WHEN state = 'Succeeded' AND vote <> 'Awaiting' THEN 1.0
                                     ELSE matrices_done::float8 / greatest(matrix_count, 1) END) FILTER (WHERE replica = 0), 0)::float8 AS done_units,
                   coalesce(sum(matrix_count) FILTER (WHERE replica = 0 AND state = 'Succeeded'), 0)::bigint AS succeeded_rows
            FROM work_units WHERE job_id = {jobId}
            """).SingleAsync(cancellationToken);
    }

    private static IQueryable<WorkUnitView> Units(CocoonDbContext db, Viewer viewer, Guid jobId) =>
        db.WorkUnits.AsNoTracking()
            .Where(u => u.JobId == jobId && Visible(db, viewer).Any(j => j.Id == u.JobId))
            .OrderBy(u => u.Index).ThenBy(u => u.Replica)
            .Select(u => new WorkUnitView
            {
                Id = u.Id,
                Index = u.Index,
                Replica = u.Replica,
                Vote = u.Vote == UnitVote.Awaiting ? "awaiting" : u.Vote == UnitVote.Agreed ? "agreed" : u.Vote == UnitVote.Outvoted ? "outvoted" : "unchecked",
                State = u.State,
                FirstMatrix = u.FirstMatrix,
                MatrixCount = u.MatrixCount,
                MatricesDone = u.MatricesDone,
                Attempts = u.Attempts,
                AgentId = u.AgentId,
                OutputDigest = u.OutputDigest,
                Gflops = u.Gflops,
                CompletedAt = u.CompletedAt,
            });

    /// <summary>The latest disputes (results the portal caught wrong), newest first, for admins.</summary>
    public async Task<IReadOnlyList<DisputeView>> DisputesAsync(int take = 200, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<Dispute>().AsNoTracking()
            .OrderByDescending(d => d.At)
            .Take(take)
            .Select(d => new DisputeView(
                d.At,
                d.Kind,
                d.JobId,
                db.Jobs.Where(j => j.Id == d.JobId).Select(j => j.Name).FirstOrDefault() ?? "",
                d.UnitIndex,
                d.AgentId,
                db.Agents.Where(a => a.Id == d.AgentId).Select(a => a.Name).FirstOrDefault() ?? "",
                d.Reported,
                d.Expected,
                d.Evidence))
            .ToListAsync(cancellationToken);
    }

    private static IQueryable<Job> Visible(CocoonDbContext db, Viewer viewer) =>
        viewer.IsAdmin ? db.Jobs : db.Jobs.Where(j => j.OwnerAccountId == viewer.AccountId);

    private static IQueryable<JobView> Project(CocoonDbContext db, IQueryable<Job> jobs) =>
        jobs.AsNoTracking().Select(j => new JobView
        {
            Id = j.Id,
            Name = j.Name,
            State = j.State,
            Kind = j.Kind,
            MatrixSize = j.MatrixSize,
            MatrixCount = j.MatrixCount,
            MatricesPerUnit = j.MatricesPerUnit,
            Seed = j.Seed,
            UnitsTotal = (j.MatrixCount + j.MatricesPerUnit - 1) / j.MatricesPerUnit,
            UnitsDone = db.WorkUnits.Count(u => u.JobId == j.Id && u.Replica == 0 && u.State == WorkUnitState.Succeeded && u.Vote != UnitVote.Awaiting),
            Redundancy = j.Redundancy,
            SpotCheckPercent = j.SpotCheckPercent,
            CheckCopies = db.WorkUnits.Count(u => u.JobId == j.Id && u.Replica > 0),
            Outvoted = db.WorkUnits.Count(u => u.JobId == j.Id && u.Vote == UnitVote.Outvoted),
            CreatedAt = j.CreatedAt,
            StartedAt = j.StartedAt,
            FinishedAt = j.FinishedAt,
            FailureReason = j.FailureReason,
            PauseReason = j.PauseReason,
            Priority = j.Priority,
            Retries = j.Retries,
            Matching = new MatchingOptions
            {
                DeviceClass = j.DeviceClass == DeviceClass.Gpu ? "gpu" : j.DeviceClass == DeviceClass.Cpu ? "cpu" : "any",
                AttestedOnly = j.AttestedOnly,
                MinBenchmarkScore = j.MinBenchmarkScore,
                MinReputation = j.MinReputation,
                Strategy = j.Strategy == MatchStrategy.Cheapest ? "cheapest" : j.Strategy == MatchStrategy.Fastest ? "fastest" : "balanced",
            },
            // Translated to PostgreSQL's ::text, which no locale touches.
#pragma warning disable CA1305
            Budget = j.Budget.ToString(),
            MaxPricePerTflop = j.MaxPricePerTflop.HasValue ? j.MaxPricePerTflop.Value.ToString() : null,
            Charged = (from e in db.Set<Ledger.LedgerEntry>()
                       join t in db.Set<Ledger.LedgerTransaction>() on e.TransactionId equals t.Id
                       where t.JobId == j.Id && t.Kind == "settle" && e.Amount > 0
                       select e.Amount).Sum().ToString(),
#pragma warning restore CA1305
        });
}

/// <summary>A dispute as admins see it: when, how it was caught, the job and unit, the agent, both digests and the evidence.</summary>
public sealed record DisputeView(DateTimeOffset At, string Kind, Guid JobId, string Job, int UnitIndex, Guid AgentId, string Agent, string Reported, string Expected, string Evidence);
