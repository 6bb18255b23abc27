using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Work;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Hosting.Live;
using Hangfire;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// Matches pending units to online agents with free capacity. <see cref="RequestAsync"/> enqueues one
/// Hangfire dispatch step per unit that free capacity can take, shared fairly between accounts; <see cref="DispatchAsync"/> is that
/// step: holding the unit's job and the unit, it picks an agent by the job's strategy, locks that agent's
/// row and counts its room again, records the lease and pushes the assignment over SignalR. Dispatches
/// of different jobs to different agents run in parallel.
/// </summary>
public sealed class Dispatcher(
    IDbContextFactory<CocoonDbContext> dbFactory,
    IBackgroundJobClient backgroundJobs,
    IHubContext<AgentHub, IAgentClient> agentHub,
    IModelRunDispatch modelRuns,
    LiveUpdates live,
    TimeProvider clock,
    IOptions<AgentLinkOptions> link,
    IOptions<JobsOptions> options,
    IOptions<Money.MoneyOptions> money,
    ILogger<Dispatcher> logger)
{
    // Any constants work; they seed the per-account locks all portal nodes take to hold an account's
    // limit, and the per-job locks under which a dispatch reserves out of the job's hold.
    private const long DispatchLockKey = 0x436F636F6F6E01;
    private const long BudgetLockKey = 0x436F636F6F6E02;

    /// <summary>A dispatch request older than this is presumed lost (its Hangfire job died) and may be made again.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Enqueues dispatch steps for as many pending units as free capacity can take, shared between the
    /// accounts waiting by weighted fair share (<see cref="FairShare"/>), each account's own units in
    /// its jobs' priority order, then oldest first.
    /// </summary>
    public async Task<int> RequestAsync(CancellationToken cancellationToken = default)
    {
        var unitIds = await ChooseAsync(null, cancellationToken);

        // A few steps of several units each: parallel enough across Hangfire's workers, without a
        // queued job (several statements of its own) for every unit.
        var perStep = Math.Max(1, (unitIds.Count + 7) / 8);
        foreach (var chunk in unitIds.Chunk(perStep))
        {
            backgroundJobs.Enqueue<DispatchUnitJob>(job => job.RunManyAsync(chunk, CancellationToken.None));
        }

        return unitIds.Count;
    }

    /// <summary>
    /// Chooses and marks requested the units free capacity can take now (<see cref="RequestAsync"/>),
    /// or, given an agent, as many as that agent has room for among the units it fits.
    /// </summary>
    private async Task<List<Guid>> ChooseAsync(Guid? forAgent, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var onlineSince = now - link.Value.AgentTimeout;
        var staleRequest = now - RequestTimeout;
        // Free slots: one agent's, or all online agents' less the units already asked for.
        var free = await db.Database.SqlQuery<int>($"""
            SELECT (COALESCE(SUM(GREATEST(a.capacity - (SELECT count(*) FROM leases l WHERE l.agent_id = a.id AND l.ended_at IS NULL), 0)), 0)
                  - CASE WHEN {forAgent}::uuid IS NULL
                         THEN (SELECT count(*) FROM work_units w WHERE w.state = 'Pending' AND w.dispatch_requested_at >= {staleRequest}) ELSE 0 END)::int AS "Value"
            FROM agents a
            WHERE ({forAgent}::uuid IS NULL OR a.id = {forAgent}::uuid)
              AND a.connection_id IS NOT NULL AND a.last_heartbeat_at > {onlineSince} AND a.quarantined_at IS NULL
            """).SingleAsync(cancellationToken);
        if (free <= 0)
        {
            return [];
        }

        // Each account's next units in its own order (priority, then age), as many as could be given now,
        // of jobs some online agent fits (a unit none can take must not take an account's turn). Each
        // running job gives at most `free` of its oldest pending units (a top-N read of the partial index
        // of pending units by job), so the cost follows the free slots and the running jobs, not how many
        // units wait. A checked job's unit also needs an agent its copies allow…
        var candidates = await db.Database.SqlQuery<CandidateRow>($"""
            SELECT unit_id, account_id, queued_at FROM (
                SELECT u.unit_id, coalesce(j.owner_account_id, {Guid.Empty}) AS account_id, u.queued_at,
                       row_number() OVER (PARTITION BY j.owner_account_id ORDER BY j.priority DESC, u.queued_at, u.index) AS rank
                FROM jobs j
                CROSS JOIN LATERAL (
                    SELECT w.id AS unit_id, w.queued_at, w.index FROM work_units w
                    WHERE w.job_id = j.id AND w.state = 'Pending'
                      AND (w.dispatch_requested_at IS NULL OR w.dispatch_requested_at < {staleRequest})
                      AND (j.redundancy = 1 AND j.spot_check_percent = 0 OR EXISTS (
                          SELECT 1 FROM agents a
                          WHERE a.connection_id IS NOT NULL AND a.last_heartbeat_at > {onlineSince} AND a.quarantined_at IS NULL
                            AND ({forAgent}::uuid IS NULL OR a.id = {forAgent}::uuid) AND cocoon_copy_fits(w, a)))
                    ORDER BY w.queued_at, w.index
                    LIMIT {free}) u
                WHERE j.state = 'Running'
                  AND EXISTS (
                      SELECT 1 FROM agents a
                      WHERE a.connection_id IS NOT NULL AND a.last_heartbeat_at > {onlineSince} AND a.quarantined_at IS NULL
                        AND ({forAgent}::uuid IS NULL OR a.id = {forAgent}::uuid)
                        AND cocoon_agent_fits(j, a, {money.Value.DefaultPricePerTflop}))) c
            WHERE c.rank <= {free}
            ORDER BY c.account_id, c.rank
            """).ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }

        // …what each of those accounts runs or has asked for already, its weight and its limit…
        var accounts = candidates.Select(c => c.AccountId).Distinct().ToArray();
        var standings = (await db.Database.SqlQuery<StandingRow>($"""
            SELECT x.id AS account_id,
                   (SELECT count(*)::int FROM work_units w JOIN jobs j ON j.id = w.job_id
                    WHERE coalesce(j.owner_account_id, {Guid.Empty}) = x.id
                      AND (w.state IN ('Leased', 'Running') OR (w.state = 'Pending' AND w.dispatch_requested_at >= {staleRequest}))) AS running,
                   coalesce(a.share_weight, 1) AS weight, a.max_concurrent_units AS max_concurrent_units
            FROM unnest({accounts}) AS x(id) LEFT JOIN accounts a ON a.id = x.id
            """).ToListAsync(cancellationToken))
            .ToDictionary(r => r.AccountId, r => new FairShare.Standing(r.Running, r.Weight, r.MaxConcurrentUnits));

        // …and the free slots shared between them by weight (FairShare). Marking re-checks each unit, so
        // two nodes choosing at once cannot both request one.
        Guid[] chosen = [.. FairShare.Allocate([.. candidates.Select(c => new FairShare.Candidate(c.UnitId, c.AccountId, c.QueuedAt))], standings, free)];
        // Rows are locked in id order, skipping any another node or step holds (it is dispatching or
        // marking that unit): two markings locking overlapping units in different orders deadlocked.
        var marked = (await db.Database.SqlQuery<Guid>($"""
            UPDATE work_units SET dispatch_requested_at = {now}
            WHERE id IN (SELECT id FROM work_units
                         WHERE id = ANY({chosen}) AND state = 'Pending' AND (dispatch_requested_at IS NULL OR dispatch_requested_at < {staleRequest})
                         ORDER BY id FOR UPDATE SKIP LOCKED)
            RETURNING id AS "Value"
            """).ToListAsync(cancellationToken)).ToHashSet();
        return [.. chosen.Where(marked.Contains)];
    }

    /// <summary>
    /// After an agent's result: the next units it fits, dispatched at once, here, rather than through a
    /// Hangfire step each (the hop that bounded dispatch at a few dozen units a second); then the usual
    /// request for any other free capacity (an agent idle while others are fed here must not starve).
    /// Each dispatch re-checks everything under its locks, as a Hangfire step does, and a unit whose
    /// dispatch fails here is requested again by the sweeper.
    /// </summary>
    public async Task DispatchNextAsync(Guid agentId, CancellationToken cancellationToken = default)
    {
        try
        {
            foreach (var unitId in await ChooseAsync(agentId, cancellationToken))
            {
                await DispatchAsync(unitId, agentId, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Dispatching the next unit to agent {AgentId} failed; the sweeper requests it again", agentId);
        }

        try
        {
            await RequestAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The result that freed the slot is counted already: its agent must not be told otherwise.
            logger.LogWarning(ex, "Asking for dispatch after agent {AgentId}'s result failed; the sweeper asks again", agentId);
        }
    }

    /// <summary>Leases one pending unit to an agent and pushes it; does nothing if the unit is no longer pending.</summary>
    public Task DispatchAsync(Guid unitId, CancellationToken cancellationToken = default) => DispatchAsync(unitId, null, cancellationToken);

    /// <param name="preferred">
    /// The agent whose freed slot asked for the unit: a balanced job's unit goes to it when it still fits
    /// and has room, without weighing every other agent (the inline path's saving); otherwise, and for
    /// the other strategies, the job's strategy picks among all.
    /// </param>
    private async Task DispatchAsync(Guid unitId, Guid? preferred, CancellationToken cancellationToken)
    {
        WorkAssignment assignment;
        string connectionId;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);

            // Job before unit, the order every unit state change locks them in (LeaseChain), so a result
            // arriving now waits rather than deadlocks, and a job failed meanwhile is seen as failed. Shared
            // (JobLock): one job's dispatches and its routine results go on side by side, and a change of the
            // job's state waits for them. Only the reservation out of the job's hold takes turns, under the
            // job's budget lock (below). A job that compares copies dispatches one unit at a time (its lock
            // exclusive): each copy's pick must see the leases of the copies dispatched before it, or two
            // copies could go to one agent (cocoon_copy_fits).
            var key = await (from u in db.WorkUnits
                             join j in db.Jobs on u.JobId equals j.Id
                             where u.Id == unitId
                             select new { j.Id, Checked = j.Redundancy > 1 || j.SpotCheckPercent > 0 }).SingleOrDefaultAsync(cancellationToken);
            var job = key is null ? null
                : key.Checked ? await JobLock.ExclusiveAsync(db, key.Id, cancellationToken)
                : await JobLock.SharedAsync(db, key.Id, cancellationToken);
            var unit = job is null ? null : await db.WorkUnits.FromSql($"SELECT * FROM work_units WHERE id = {unitId} FOR UPDATE")
                .SingleOrDefaultAsync(cancellationToken);
            if (job is null || unit is null || unit.State != WorkUnitState.Pending)
            {
                return;
            }

            var now = clock.GetUtcNow();
            var agent = job.State != JobState.Running || await AtAccountLimitAsync(db, job, cancellationToken) ? null
                : (preferred is not null && job.Strategy == MatchStrategy.Balanced ? await PickAndLockAsync(db, skip => PickAgentAsync(db, job, unit, now, skip, cancellationToken, only: preferred), cancellationToken) : null)
                  ?? await PickAndLockAsync(db, skip => PickAgentAsync(db, job, unit, now, skip, cancellationToken), cancellationToken);
            unit.DispatchRequestedAt = null;
            if (agent is null)
            {
                // No capacity after all (another step took it); the next request will find this unit again.
                await db.SaveChangesAsync(cancellationToken);
                await tx.CommitAsync(cancellationToken);
                return;
            }

            // What the unit will cost is fixed now, and reserved out of what the job still holds; if the
            // least-loaded agent is too dear for what is left, the cheapest one able to take it is asked.
            // One dispatch of a job at a time reserves (each out of what the others left), from here to its
            // commit. It is the last lock a dispatch takes: none waits for it holding what another needs.
            var deadline = now + await ExpectedWorkAsync(db, job, unit, agent, cancellationToken);
            // (The job's state cannot change meanwhile: that takes the job's lock exclusively.)
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({job.Id}::text, {BudgetLockKey}))", cancellationToken);
            var charge = await ChargeAsync(db, job, unit, agent, cancellationToken);
            if (charge is { Fits: false } && await PickAndLockAsync(db, skip => PickAgentAsync(db, job, unit, now, skip, cancellationToken, cheapestFirst: true), cancellationToken) is { } cheapest && cheapest.Id != agent.Id)
            {
                agent = cheapest;
                charge = await ChargeAsync(db, job, unit, agent, cancellationToken);
                deadline = now + await ExpectedWorkAsync(db, job, unit, agent, cancellationToken);
            }

            if (charge is null)
            {
                // The job's first model unit is measuring what a row costs; the next waits for its figure.
                await db.SaveChangesAsync(cancellationToken);
                await tx.CommitAsync(cancellationToken);
                return;
            }

            if (!charge.Fits)
            {
                if (charge.OthersRunning)
                {
                    await db.SaveChangesAsync(cancellationToken);
                    await tx.CommitAsync(cancellationToken);
                    return;
                }

                await db.SaveChangesAsync(cancellationToken);
                await tx.CommitAsync(cancellationToken);
                await PauseForBudgetAsync(job.Id, charge.Reserved, $"Paused at its budget: unit {unit.Index} would cost {Ledger.Ton.Format(charge.Reserved)} TON on the cheapest agent online that can take it, " +
                    $"and {Ledger.Ton.Format(Math.Max(charge.Remaining, 0))} TON of the budget is left. Raise the budget to go on, or cancel the job to release the rest.", cancellationToken);
                return;
            }

            var lease = new Lease
            {
                Id = Guid.CreateVersion7(),
                WorkUnitId = unit.Id,
                JobId = job.Id,
                AgentId = agent.Id,
                PricePerTflop = charge.PricePerTflop,
                Reserved = charge.Reserved,
                Fee = charge.Fee,
                ChargeFixed = charge.Fixed,
                IssuedAt = now,
                ExpiresAt = now + link.Value.Lease,
                Deadline = deadline,
                LastProgressAt = now,
                Outcome = LeaseOutcome.Active,
            };
            db.Leases.Add(lease);
            unit.State = WorkUnitState.Leased;
            unit.CurrentLeaseId = lease.Id;
            unit.AgentId = agent.Id;
            unit.Attempts++;
            unit.MatricesDone = 0;
            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);

            connectionId = agent.ConnectionId!; // as read under the agent's row lock
            assignment = new WorkAssignment
            {
                LeaseId = lease.Id,
                UnitId = unit.Id,
                JobId = job.Id,
                UnitIndex = unit.Index,
                Work = job.Kind == JobKind.MatMul
                    ? new MatMulSpec
                    {
                        MatrixSize = job.MatrixSize,
                        FirstMatrix = unit.FirstMatrix,
                        MatrixCount = unit.MatrixCount,
                        Seed = job.Seed,
                    }
                    : null,
                ModelRun = job.Kind == JobKind.Model ? await modelRuns.SpecAsync(db, job, unit, agent.Id, cancellationToken) : null,
            };
        }

        // A push to a connection that just vanished is silently dropped; the lease then ends when the
        // agent's disconnect is handled or, at the latest, when it expires.
        await agentHub.Clients.Client(connectionId).AssignAsync(assignment);
        logger.LogDebug("Unit {Index} of job {JobId} leased to connection {ConnectionId}", assignment.UnitIndex, assignment.JobId, connectionId);
        live.JobChanged(assignment.JobId);
    }

    /// <summary>
    /// The job pauses with its hold (its owner may raise the budget, which resumes it, or cancel it): a
    /// transaction of its own holding the job's row (the dispatch that found the budget short held it
    /// share-locked, and one holder turning its lock into a writer's can deadlock with another).
    /// </summary>
    /// <param name="needed">What the unit that did not fit would reserve: if the owner raised the budget since, or leases ended, and it fits now, the job goes on.</param>
    private async Task PauseForBudgetAsync(Guid jobId, long needed, string reason, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var job = await JobLock.ExclusiveAsync(db, jobId, cancellationToken);
        if (job is not { State: JobState.Running }
            || await Money.Billing.HeldForJobAsync(db, job.Billed(), cancellationToken) - await db.RunningLeases(jobId).SumAsync(l => l.Reserved, cancellationToken) >= needed)
        {
            return;
        }

        job.State = JobState.Paused;
        job.PausedForBudget = true;
        job.PauseReason = reason;
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        logger.LogInformation("Job {JobId} paused: {Reason}", jobId, reason);
        live.JobChanged(jobId);
    }

    /// <summary>
    /// The agent <paramref name="pick"/> chooses, its row locked and its room counted again: dispatches
    /// run in parallel (each holds only its job, its unit and, here, its agent), so another may have
    /// filled the agent's last slot after the pick read it. The lock skips a row another dispatch holds
    /// (no dispatch waits on an agent, so agents' rows cannot deadlock) and the count is a statement of
    /// its own, after the lock, so it sees every lease committed before. An agent locked by another or
    /// without room is released (back to a savepoint) and left out of the next pick; a few tries at most.
    /// The agent is read again under the lock (its connection may have changed since the pick).
    /// </summary>
    private static async Task<RegisteredAgent?> PickAndLockAsync(CocoonDbContext db, Func<Guid[], Task<RegisteredAgent?>> pick, CancellationToken cancellationToken)
    {
        var transaction = db.Database.CurrentTransaction ?? throw new InvalidOperationException("A dispatch locks its agent inside its transaction.");
        var skipped = new List<Guid>();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            if (await pick([.. skipped]) is not { } picked)
            {
                return null;
            }

            await transaction.CreateSavepointAsync("agent", cancellationToken);
            var locked = await db.Agents.FromSql($"""
                SELECT * FROM agents WHERE id = {picked.Id} AND connection_id IS NOT NULL AND quarantined_at IS NULL
                FOR NO KEY UPDATE SKIP LOCKED
                """).AsNoTracking().SingleOrDefaultAsync(cancellationToken);
            var active = locked is null ? int.MaxValue
                : await db.Leases.CountAsync(l => l.AgentId == locked.Id && l.EndedAt == null, cancellationToken);
            if (locked is not null && active < locked.Capacity)
            {
                return locked;
            }

            await transaction.RollbackToSavepointAsync("agent", cancellationToken);
            skipped.Add(picked.Id);
        }

        return null;
    }

    /// <summary>
    /// Whether the job's owner already runs as many units as their account may at once (checked under a
    /// lock of the account's own, so dispatches at the same moment cannot together pass the limit).
    /// </summary>
    private static async Task<bool> AtAccountLimitAsync(CocoonDbContext db, Job job, CancellationToken cancellationToken)
    {
        if (job.OwnerAccountId is not { } owner
            || await db.Set<Identity.Account>().Where(a => a.Id == owner).Select(a => a.MaxConcurrentUnits).SingleOrDefaultAsync(cancellationToken) is not { } limit)
        {
            return false;
        }

        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({owner}::text, {DispatchLockKey}))", cancellationToken);

        var running = await db.WorkUnits.CountAsync(
            u => (u.State == WorkUnitState.Leased || u.State == WorkUnitState.Running) && db.Jobs.Any(j => j.Id == u.JobId && j.OwnerAccountId == owner), cancellationToken);
        return running >= limit;
    }

    /// <summary>
    /// The lease's deadline (<see cref="LeaseDeadline"/>): the unit's FLOPs (a matrix job's exactly, a
    /// model job's from what its finished units reported per row) ÷ the agent's benchmark, and the job's
    /// finished units' time per row. A lease past its deadline ends, so an agent cannot hold a unit by
    /// heartbeating alone.
    /// </summary>
    private async Task<TimeSpan> ExpectedWorkAsync(CocoonDbContext db, Job job, WorkUnit unit, RegisteredAgent agent, CancellationToken cancellationToken)
    {
        // Any twenty finished units will do (no sort: this runs while the job row is locked).
        var finished = await db.WorkUnits.AsNoTracking()
            .Where(u => u.JobId == job.Id && u.State == WorkUnitState.Succeeded && u.StartedAt != null && u.CompletedAt != null && u.MatrixCount > 0)
            .Take(20)
            .Select(u => new { u.StartedAt, u.CompletedAt, u.MatrixCount, u.Flops })
            .ToListAsync(cancellationToken);
        var rows = Math.Max(unit.MatrixCount, 1);
        double? secondsPerRow = finished.Count > 0 ? finished.Average(u => (u.CompletedAt!.Value - u.StartedAt!.Value).TotalSeconds / u.MatrixCount) : null;
        double? flops = job.Kind == JobKind.MatMul
            ? 2.0 * job.MatrixSize * job.MatrixSize * job.MatrixSize * rows
            : Median(finished.Where(u => u.Flops > 0).Select(u => (double)u.Flops!.Value / u.MatrixCount)) * rows;
        return LeaseDeadline.Expected(flops, agent.BenchmarkScore, secondsPerRow, rows, options.Value);
    }

    /// <summary>
    /// The unit's charge on this agent (cost plus fee), and whether what the job still holds, less what
    /// its running leases reserved, covers it. Exact when the unit's FLOPs are known (a matrix job's; a
    /// model job's once a unit has fixed its FLOPs per row); otherwise the job's first model unit
    /// reserves all that is left, and null is returned while such a measuring unit runs.
    /// </summary>
    private async Task<UnitCharge?> ChargeAsync(CocoonDbContext db, Job job, WorkUnit unit, RegisteredAgent agent, CancellationToken cancellationToken)
    {
        var price = agent.PricePerTflop ?? money.Value.DefaultPricePerTflop;
        var rows = Math.Max(unit.MatrixCount, 1);
        double? flops = job.Kind == JobKind.MatMul ? 2.0 * job.MatrixSize * job.MatrixSize * job.MatrixSize * rows
            : job.FlopsPerRow is { } perRow ? (double)perRow * rows
            : null;
        // Leases of copies awaiting their vote still reserve what they may be paid, but are not running.
        var running = await db.RunningLeases(job.Id)
            .Select(l => new { l.Reserved, l.ChargeFixed, Active = l.EndedAt == null }).ToListAsync(cancellationToken);
        if (flops is null && price > 0 && running.Any(l => !l.ChargeFixed && l.Active))
        {
            return null;
        }

        var remaining = await Money.Billing.HeldForJobAsync(db, job.Billed(), cancellationToken) - running.Sum(l => l.Reserved);
        if (flops is null)
        {
            // Not known until a unit has run: reserve the unit's share of what is left (so a count it inflates
            // takes at most that), and charge the measured figure, capped by it.
            var pending = await db.WorkUnits.CountAsync(u => u.JobId == job.Id && u.State != WorkUnitState.Succeeded && u.State != WorkUnitState.Failed, cancellationToken);
            var share = Math.Max(remaining, 0) / Math.Max(pending, 1);
            return new UnitCharge(price, price > 0 ? share : 0, 0, Fixed: false, Fits: price == 0 || share > 0, remaining, running.Any(l => l.Active));
        }

        var (cost, fee) = Money.Pricing.UnitCharge(flops.Value, price, money.Value.FeePercent);
        return new UnitCharge(price, cost + fee, fee, Fixed: true, Fits: cost + fee <= remaining, remaining, running.Any(l => l.Active));
    }

    private sealed record CandidateRow(Guid UnitId, Guid AccountId, DateTimeOffset QueuedAt);

    private sealed record StandingRow(Guid AccountId, int Running, int Weight, int? MaxConcurrentUnits);

    private sealed record UnitCharge(long PricePerTflop, long Reserved, long Fee, bool Fixed, bool Fits, long Remaining, bool OthersRunning);

    /// <summary>The middle value (one agent's inflated report moves it little); 0 when there are none.</summary>
    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// The agent a unit goes to: among the online agents with room that meet everything the job asks
    /// (<see cref="AgentMatch"/>: its key grant, price cap, device class, memory, attestation, benchmark
    /// score and reputation; for a unit run on several agents, none that holds or ran another copy of it,
    /// and only its copies' device kind: <c>cocoon_copy_fits</c>), one that has not failed this unit first (a failure is another agent's to
    /// confirm), chosen by the job's strategy; <paramref name="cheapestFirst"/> puts price first whatever
    /// the strategy (when the budget left cannot pay the first choice). Agents equal on all of that are
    /// taken in random order, so dispatches running side by side spread over them instead of all
    /// picking the same one and skipping it in turn.
    /// </summary>
    private async Task<RegisteredAgent?> PickAgentAsync(CocoonDbContext db, Job job, WorkUnit unit, DateTimeOffset now, Guid[] skip, CancellationToken cancellationToken, bool cheapestFirst = false, Guid? only = null)
    {
        var onlineSince = now - link.Value.AgentTimeout;
        var defaultPrice = money.Value.DefaultPricePerTflop;
        var strategy = job.Strategy.ToString();
        return await db.Agents.FromSql($"""
            SELECT a.* FROM agents a
            CROSS JOIN LATERAL (SELECT count(*) AS active FROM leases l WHERE l.agent_id = a.id AND l.ended_at IS NULL) load
            JOIN jobs j ON j.id = {job.Id}
            JOIN work_units w ON w.id = {unit.Id}
            WHERE a.connection_id IS NOT NULL AND a.last_heartbeat_at > {onlineSince} AND load.active < a.capacity AND a.quarantined_at IS NULL
              AND NOT (a.id = ANY({skip}))
              AND ({only}::uuid IS NULL OR (a.id = {only}::uuid
                   AND NOT EXISTS (SELECT 1 FROM leases f WHERE f.work_unit_id = {unit.Id} AND f.agent_id = a.id AND f.outcome = 'Failed')))
              AND cocoon_agent_fits(j, a, {defaultPrice})
              AND (j.redundancy = 1 AND j.spot_check_percent = 0 OR cocoon_copy_fits(w, a))
            ORDER BY CASE WHEN {cheapestFirst} THEN coalesce(a.price_per_tflop, {defaultPrice}) ELSE 0 END,
                     EXISTS (SELECT 1 FROM leases f WHERE f.work_unit_id = {unit.Id} AND f.agent_id = a.id AND f.outcome = 'Failed'),
                     CASE WHEN {strategy} = 'Cheapest' THEN coalesce(a.price_per_tflop, {defaultPrice}) ELSE 0 END,
                     CASE WHEN {strategy} = 'Cheapest' THEN -coalesce(a.benchmark_score, 0) ELSE 0 END,
                     CASE WHEN {strategy} = 'Fastest' THEN (load.active + 1) / greatest(coalesce(a.benchmark_score, 0), 1e-3) ELSE 0 END,
                     load.active::float / a.capacity, coalesce(a.price_per_tflop, {defaultPrice}), random()
            LIMIT 1
            """).AsNoTracking().SingleOrDefaultAsync(cancellationToken);
    }
}
