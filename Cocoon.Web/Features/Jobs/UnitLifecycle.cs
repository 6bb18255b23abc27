using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Work;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Hosting.Live;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// Every change of a unit's state after dispatch: progress, a counted result, a failure, a lease
/// that ends without a result. Each runs in one transaction that locks job, unit and lease in that
/// order, so concurrent reports for one job serialise and a unit is counted done exactly once.
/// </summary>
public sealed class UnitLifecycle(
    IDbContextFactory<CocoonDbContext> dbFactory,
    Dispatcher dispatcher,
    IHubContext<AgentHub, IAgentClient> agentHub,
    LiveUpdates live,
    TimeProvider clock,
    IOptions<JobsOptions> options,
    IOptions<AgentLinkOptions> link,
    IOptions<Money.MoneyOptions> money,
    Attestation.EvidenceVerifier keys,
    ILogger<UnitLifecycle> logger)
{
    /// <summary>Records progress and renews the lease; ignored unless the lease is the unit's current one.</summary>
    public async Task RecordProgressAsync(Guid agentId, UnitProgress progress, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var done = Math.Max(0, progress.Done);

        // Only progress that moves renews the lease's progress clock: repeating the same count keeps it alive no more than heartbeats do.
        var before = await db.WorkUnits.AsNoTracking().Where(u => u.CurrentLeaseId == progress.LeaseId)
            .Select(u => new { u.MatricesDone, u.MatrixCount }).SingleOrDefaultAsync(cancellationToken);
        var jobIds = await db.Database.SqlQuery<Guid>($"""
            UPDATE work_units SET matrices_done = LEAST({done}, matrix_count), state = 'Running', started_at = COALESCE(started_at, {now})
            WHERE current_lease_id = {progress.LeaseId} AND agent_id = {agentId} AND state IN ('Leased', 'Running')
            RETURNING job_id AS "Value"
            """).ToListAsync(cancellationToken);
        if (jobIds.Count == 0)
        {
            return;
        }

        var expires = now + link.Value.Lease;
        // Compared as stored (capped at the unit's size): a count past the end is no progress either.
        var progressAt = before is null || Math.Min(done, before.MatrixCount) > before.MatricesDone ? now : (DateTimeOffset?)null;
        await db.Leases.Where(l => l.Id == progress.LeaseId && l.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, expires).SetProperty(l => l.LastProgressAt, l => progressAt ?? l.LastProgressAt), cancellationToken);
        live.JobChanged(jobIds[0]);
    }

    /// <summary>
    /// A model unit's result must name the sealed output this very lease uploaded, with the digest it
    /// reports: not the job's model or dataset, not another lease's output, not another account's blob.
    /// </summary>
    private static Task<bool> IsOutputOfAsync(CocoonDbContext db, Job job, UnitResult result, CancellationToken cancellationToken)
    {
        var digest = result.OutputDigest.ToLowerInvariant();
        return db.Set<Blobs.StoredBlob>().AnyAsync(
            b => b.Id == result.OutputBlobId && b.LeaseId == result.LeaseId && b.AccountId == job.OwnerAccountId && b.Digest == digest, cancellationToken);
    }

    /// <summary>
    /// The digest a canary unit's result must have (the portal recomputes the products), when the lease
    /// is on a matrix unit chosen as one (<see cref="WorkUnit.Canary"/>); null for any other.
    /// </summary>
    private async Task<string?> CanaryDigestAsync(Guid leaseId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var canary = await (from l in db.Leases
                            join u in db.WorkUnits on l.WorkUnitId equals u.Id
                            join j in db.Jobs on u.JobId equals j.Id
                            where l.Id == leaseId && u.Canary && j.Kind == JobKind.MatMul && l.Outcome != LeaseOutcome.Failed
                                && u.State != WorkUnitState.Succeeded && u.State != WorkUnitState.Failed && j.State == JobState.Running
                            select new MatMulSpec { MatrixSize = j.MatrixSize, Seed = j.Seed, FirstMatrix = u.FirstMatrix, MatrixCount = u.MatrixCount })
            .AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        return canary is null ? null : await Task.Run(() => MatMulReference.OutputDigest(canary), cancellationToken);
    }

    /// <summary>
    /// Whether the result's signed plaintext digest is the agent's (<see cref="OutputStatement"/>):
    /// null when it carries none, or its job does not compare outputs (then nothing is checked or kept:
    /// a key lookup per model result would be spent for nothing), false when the signature does not
    /// check against the key the agent was paired with.
    /// </summary>
    private async Task<bool?> PlainDigestSignedAsync(Guid agentId, UnitResult result, CancellationToken cancellationToken)
    {
        if (result.PlainDigest is null && result.PlainDigestSignature is null)
        {
            return null;
        }

        string? clientId;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var compared = await (from l in db.Leases
                                  join u in db.WorkUnits on l.WorkUnitId equals u.Id
                                  join j in db.Jobs on u.JobId equals j.Id
                                  where l.Id == result.LeaseId && (j.Redundancy > 1 || j.SpotCheckPercent > 0)
                                  select l.Id).AnyAsync(cancellationToken);
            if (!compared)
            {
                return null;
            }

            clientId = await db.Agents.Where(a => a.Id == agentId).Select(a => a.ClientId).SingleOrDefaultAsync(cancellationToken);
        }

        try
        {
            using var key = await keys.CredentialKeyAsync(clientId, cancellationToken);
            return OutputStatement.Verify(key, result.LeaseId, result.PlainDigest, OutputStatement.ParseSignature(result.PlainDigestSignature));
        }
        catch (Shared.Attestation.AttestationException)
        {
            return false;
        }
    }

    /// <summary>Counts a verified result unless the unit was already done; an unverified one ends the lease as failed.</summary>
    public async Task<ResultAck> AcceptResultAsync(Guid agentId, UnitResult result, CancellationToken cancellationToken)
    {
        if (!result.Verified || result.OutputDigest.Length != 64 || !result.OutputDigest.All(Uri.IsHexDigit))
        {
            var closed = await CloseLeaseAsync(result.LeaseId, agentId, LeaseOutcome.Failed,
                result.Verified ? "The agent reported a malformed digest." : "The device's output did not match the reference.", cancellationToken);
            await dispatcher.RequestAsync(cancellationToken);
            return closed ? ResultAck.Rejected : ResultAck.UnknownLease;
        }

        // A canary's answer is worked out before any row is locked: it may take the portal's CPU a while.
        var expected = await CanaryDigestAsync(result.LeaseId, cancellationToken);
        var signed = await PlainDigestSignedAsync(agentId, result, cancellationToken);
        IReadOnlyList<CopyVote.Loser> outvoted = [];
        IReadOnlyList<StoppedLease> stoppedByVote = [];
        Guid? supersededLease = null;
        Guid? supersededAgent = null;
        Guid jobId;
        var finishAfter = false;

        // First as a routine result (the job row share-locked, beside the job's other results and its
        // dispatches); anything more (a late or refused result, compared copies, a first model unit)
        // goes again holding the job row.
        for (var mayShare = true; ; mayShare = false)
        {
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            {
                await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
                var chain = await LeaseChain.LockAsync(db, result.LeaseId, cancellationToken, mayShare);
                if (chain is null || chain.Lease.AgentId != agentId)
                {
                    return ResultAck.UnknownLease;
                }

                if (chain.Shared && !chain.Routine)
                {
                    // It stopped being routine between the first read and the lock: taken again with the job row held.
                    continue;
                }

                var (job, unit, lease, _) = chain;
                jobId = job.Id;
                var now = clock.GetUtcNow();
                if (lease.Outcome == LeaseOutcome.Failed)
                {
                    // A lease ended as failed (its agent said so, or its result was refused) stays failed: an
                    // answer sent again on it, a canary's corrected one included, is not counted or paid.
                    return ResultAck.Rejected;
                }

                if (unit.State is WorkUnitState.Succeeded or WorkUnitState.Failed || job.State is JobState.Cancelled or JobState.Failed)
                {
                    // A cancelled or failed job counts and charges nothing more (its hold is released).
                    if (lease.Outcome == LeaseOutcome.Active)
                    {
                        lease.Outcome = unit.State == WorkUnitState.Succeeded ? LeaseOutcome.Superseded : LeaseOutcome.Cancelled;
                        lease.EndedAt = now;
                        await db.SaveChangesAsync(cancellationToken);
                        await tx.CommitAsync(cancellationToken);
                    }

                    return ResultAck.AlreadyDone;
                }

                // Checked before anything else changes: a rejected result must not supersede the lease now running the unit.
                var wrong = expected is not null && !expected.Equals(result.OutputDigest, StringComparison.OrdinalIgnoreCase);
                var rejected = job.Kind != JobKind.Model
                    ? wrong ? $"The result of unit {unit.Index} is wrong: the portal checked it and its products give another digest." : null
                    : !await IsOutputOfAsync(db, job, result, cancellationToken) ? "The agent reported an output the portal does not hold for this job."
                    : signed == false ? "The agent's signature over the digest of its plaintext output does not check against the key it was paired with."
                    : job.Checked && signed is null ? "This job compares each unit's output across agents, and the agent did not sign the digest of its plaintext output (an agent older than protocol 3)."
                    : job.FlopsPerRow is { } perRow && Math.Abs(result.Flops - (perRow * Math.Max(unit.MatrixCount, 1))) > Math.Max(unit.MatrixCount, 1) // the figure is rounded down per row
                        ? $"The agent counted {result.Flops:N0} FLOPs for {unit.MatrixCount:N0} rows; this job's model costs {perRow:N0} a row, as its first unit counted."
                    : null;
                if (rejected is not null)
                {
                    if (chain.Shared)
                    {
                        // A refused result may fail its unit and so its job: taken again with the job row held.
                        continue;
                    }

                    lease.Outcome = LeaseOutcome.Failed;
                    lease.EndedAt = now;
                    if (wrong)
                    {
                        db.Add(new Dispute
                        {
                            Id = Guid.CreateVersion7(),
                            At = now,
                            JobId = job.Id,
                            WorkUnitId = unit.Id,
                            UnitIndex = unit.Index,
                            LeaseId = lease.Id,
                            AgentId = agentId,
                            Kind = "Canary",
                            Reported = result.OutputDigest.ToLowerInvariant(),
                            Expected = expected!,
                            Evidence = $"Unit {unit.Index} of job '{job.Name}' (products {unit.FirstMatrix}–{unit.FirstMatrix + unit.MatrixCount - 1} of {job.MatrixSize}×{job.MatrixSize}, seed {job.Seed}) " +
                                "was recomputed by the portal; the agent's digest differs. Anyone can check it with the input generator and the reference product. " +
                                "The lease was failed and not paid, and the unit was queued for another agent.",
                        });
                    }

                    await db.SaveChangesAsync(cancellationToken);
                    IReadOnlyList<StoppedLease> stopped = [];
                    if (unit.CurrentLeaseId == lease.Id)
                    {
                        stopped = await RequeueAsync(db, job, unit, LeaseOutcome.Failed, rejected, now, cancellationToken);
                        await db.SaveChangesAsync(cancellationToken);
                    }

                    await tx.CommitAsync(cancellationToken);
                    await CancelOnAgentsAsync(stopped, cancellationToken);
                    await QuarantineIfFailingAsync(agentId, cancellationToken);
                    await dispatcher.RequestAsync(cancellationToken);
                    return ResultAck.Rejected;
                }

                if (unit.CurrentLeaseId is { } current && current != lease.Id)
                {
                    // A late result from an earlier lease still counts; the lease now running the unit is told to stop.
                    var other = await db.Leases.SingleAsync(l => l.Id == current, cancellationToken);
                    if (other.Outcome == LeaseOutcome.Active)
                    {
                        other.Outcome = LeaseOutcome.Superseded;
                        other.EndedAt = now;
                        supersededLease = other.Id;
                        supersededAgent = other.AgentId;
                    }
                }

                unit.State = WorkUnitState.Succeeded;
                unit.OutputBlobId = result.OutputBlobId;
                unit.CurrentLeaseId = lease.Id;
                unit.AgentId = lease.AgentId;
                unit.MatricesDone = unit.MatrixCount;
                unit.CompletedAt = now;
                unit.StartedAt ??= lease.IssuedAt;
                unit.OutputDigest = result.OutputDigest.ToLowerInvariant();
                // Kept only where it is compared: a digest of plaintext is not something to hold for nothing.
                unit.PlainDigest = signed == true ? result.PlainDigest!.ToLowerInvariant() : null;
                unit.PlainDigestSignature = signed == true ? OutputStatement.ParseSignature(result.PlainDigestSignature) : null;
                unit.Flops = result.Flops;
                var compared = job.Checked && await db.WorkUnits.CountAsync(u => u.JobId == job.Id && u.Index == unit.Index, cancellationToken) > 1;
                if (job.Kind == JobKind.Model && job.FlopsPerRow is null && result.Flops > 0 && !compared)
                {
                    // (A compared unit's figure is fixed when its vote is decided: CopyVote.)
                    job.FlopsPerRow = result.Flops / Math.Max(unit.MatrixCount, 1);
                }
                unit.DeviceMilliseconds = result.DeviceMilliseconds;
                unit.Gflops = result.Gflops;
                unit.DispatchRequestedAt = null;
                lease.Outcome = LeaseOutcome.Succeeded;
                lease.EndedAt = now;
                unit.Vote = compared ? UnitVote.Awaiting : UnitVote.Unchecked;
                lease.AwaitingVote = compared;
                await db.SaveChangesAsync(cancellationToken);
                if (compared)
                {
                    // Paid, or not, when its copies are all in (CopyVote), in this transaction if this was the last.
                    (outvoted, stoppedByVote) = await CopyVote.CountAsync(db, job, unit, now,
                        (copy, copyLease) => job.State is JobState.Running or JobState.Paused ? SettleAsync(db, job, copy, copyLease, copy.Flops ?? 0, now, cancellationToken) : Task.CompletedTask,
                        cancellationToken);
                }
                else if (job.State is JobState.Running or JobState.Paused)
                {
                    await SettleAsync(db, job, unit, lease, result.Flops, now, cancellationToken, ownReservation: chain.Shared);
                }

                if (chain.Shared)
                {
                    // Other results of the job may be committing beside this one: whichever commits last sees every unit done.
                    finishAfter = true;
                }
                else
                {
                    await FinishIfDoneAsync(db, job, now, cancellationToken);
                }

                await tx.CommitAsync(cancellationToken);
            }

            break;
        }

        if (finishAfter)
        {
            try
            {
                await FinishIfDoneAsync(jobId, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The result is counted: its agent must not be told otherwise. The sweeper finishes the job.
                logger.LogWarning(ex, "Finishing job {JobId} after a result failed; the sweeper finishes it", jobId);
            }
        }

        if (supersededLease is { } leaseId)
        {
            await CancelOnAgentAsync(supersededAgent!.Value, leaseId, cancellationToken);
        }

        await CancelOnAgentsAsync(stoppedByVote, cancellationToken);
        foreach (var loser in outvoted)
        {
            logger.LogWarning("Agent {AgentId} was outvoted on lease {LeaseId}: its output differs from the majority's", loser.AgentId, loser.LeaseId);
            await QuarantineIfFailingAsync(loser.AgentId, cancellationToken);
        }

        live.JobChanged(jobId);

        // The agent has a free slot now: its next unit goes out from here, not through a Hangfire step.
        await dispatcher.DispatchNextAsync(agentId, cancellationToken);
        return ResultAck.Accepted;
    }

    /// <summary>
    /// Marks a job succeeded and releases what is left of its hold once every unit is done: after a
    /// routine result commits (and by the sweeper, for a portal stopped between the two). The job row is
    /// taken for this alone, and only when the first look finds nothing unfinished.
    /// </summary>
    public async Task FinishIfDoneAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.WorkUnits.AnyAsync(u => u.JobId == jobId && u.State != WorkUnitState.Succeeded, cancellationToken))
        {
            return;
        }

        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var job = await JobLock.ExclusiveAsync(db, jobId, cancellationToken);
        if (job is not null && await FinishIfDoneAsync(db, job, clock.GetUtcNow(), cancellationToken))
        {
            await tx.CommitAsync(cancellationToken);
            live.JobChanged(jobId);
        }
    }

    /// <summary>The job succeeds, in the caller's transaction holding its row, when it runs and no unit is unfinished.</summary>
    private async Task<bool> FinishIfDoneAsync(CocoonDbContext db, Job job, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Served by the partial index of unfinished units, so this stays cheap however large the job.
        if (job.State is not (JobState.Running or JobState.Paused)
            || await db.WorkUnits.AnyAsync(u => u.JobId == job.Id && u.State != WorkUnitState.Succeeded, cancellationToken))
        {
            return false;
        }

        job.State = JobState.Succeeded;
        job.FinishedAt = now;
        job.PauseReason = null;
        job.PausedForBudget = false;
        await db.SaveChangesAsync(cancellationToken);
        await Money.Billing.ReleaseAsync(db, job.Billed(), now, cancellationToken);
        logger.LogInformation("Job {JobId} succeeded: {Units} units", job.Id, job.UnitCount);
        return true;
    }

    /// <summary>
    /// Moves the unit's charge from the job's hold to the provider and the platform: the charge fixed at
    /// dispatch, or (a model job's first unit) the one its FLOPs give at the lease's price, capped by
    /// what the lease reserved.
    /// </summary>
    /// <param name="ownReservation">
    /// A routine result, accepted beside the job's others: it is paid out of its own lease's reservation,
    /// which no one else counts as free (and the job's hold and the others' reservations, read in two
    /// statements while other results commit, could not be trusted to agree).
    /// </param>
    private async Task SettleAsync(CocoonDbContext db, Job job, WorkUnit unit, Lease lease, long flops, DateTimeOffset now, CancellationToken cancellationToken, bool ownReservation = false)
    {
        long cost, fee;
        var feePercent = money.Value.FeePercent;
        if (lease.ChargeFixed)
        {
            (cost, fee) = (lease.Reserved - lease.Fee, lease.Fee);
        }
        else
        {
            (cost, fee) = Money.Pricing.UnitCharge(flops, lease.PricePerTflop, feePercent);
            if (cost + fee > lease.Reserved)
            {
                cost = lease.Reserved * 100 / (100 + feePercent);
                fee = lease.Reserved - cost;
            }
        }

        // Otherwise never more than the job holds beyond what its other running leases reserved: a late
        // result from a lease that already ended cannot take money reserved for the lease that replaced it.
        var free = ownReservation ? lease.Reserved
            : await Money.Billing.HeldForJobAsync(db, job.Billed(), cancellationToken)
              - await db.RunningLeases(job.Id).Where(l => l.Id != lease.Id).SumAsync(l => l.Reserved, cancellationToken);
        if (cost + fee > free)
        {
            logger.LogWarning("Unit {Index} of job {JobId} would be charged {Charge} nanotons but only {Free} are free in its hold; charging that", unit.Index, job.Id, cost + fee, Math.Max(free, 0));
            cost = Math.Max(free, 0) * 100 / (100 + feePercent);
            fee = Math.Max(free, 0) - cost;
        }

        var agent = await db.Agents.AsNoTracking().Where(a => a.Id == lease.AgentId)
            .Select(a => new Money.RegisteredAgentOwner(a.Id, a.Name, a.OwnerAccountId)).SingleAsync(cancellationToken);
        try
        {
            await Money.Billing.SettleAsync(db, job.Billed(), unit.Billed(), agent, cost, fee, now, cancellationToken);
        }
        catch (Ledger.InsufficientFundsException ex)
        {
            // The per-job hold refused it (it cannot happen given the cap above, and must not lose the result if it does).
            logger.LogError("Unit {Index} of job {JobId} was not charged: {Reason}", unit.Index, job.Id, ex.Message);
        }
    }

    /// <summary>The agent could not finish: the unit goes back to the queue, or fails past the attempt limit.</summary>
    public async Task<ResultAck> AcceptFailureAsync(Guid agentId, UnitFailure failure, CancellationToken cancellationToken)
    {
        var closed = await CloseLeaseAsync(failure.LeaseId, agentId, LeaseOutcome.Failed, failure.Reason, cancellationToken, failure.ModelError);
        await dispatcher.RequestAsync(cancellationToken);
        return closed ? ResultAck.Accepted : ResultAck.UnknownLease;
    }

    /// <summary>
    /// Ends an active lease without a counted result (failure, expiry, lost agent). If it was the unit's
    /// current lease the unit is queued again, or fails with its job past the attempt limit. Returns
    /// false when there is no such lease (or it belongs to another agent, when one is named).
    /// It does not ask for dispatch: callers closing several leases ask once, after the last.
    /// </summary>
    /// <param name="modelError">The agent says the model itself was refused: not held against the agent, and two such agents fail the job.</param>
    public async Task<bool> CloseLeaseAsync(Guid leaseId, Guid? agentId, LeaseOutcome outcome, string reason, CancellationToken cancellationToken, bool modelError = false)
    {
        Guid leaseAgent;
        Guid jobId;
        IReadOnlyList<StoppedLease> stopped = [];
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var chain = await LeaseChain.LockAsync(db, leaseId, cancellationToken);
            if (chain is null || (agentId is not null && chain.Lease.AgentId != agentId))
            {
                return false;
            }

            var (job, unit, lease, _) = chain;
            jobId = job.Id;
            leaseAgent = lease.AgentId;
            if (lease.Outcome != LeaseOutcome.Active)
            {
                return true;
            }

            var now = clock.GetUtcNow();
            lease.Outcome = outcome;
            lease.EndedAt = now;
            lease.ModelError = outcome == LeaseOutcome.Failed && modelError;
            await db.SaveChangesAsync(cancellationToken);
            if (unit.CurrentLeaseId == lease.Id && unit.State is WorkUnitState.Leased or WorkUnitState.Running)
            {
                stopped = await RequeueAsync(db, job, unit, outcome, reason, now, cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        await CancelOnAgentsAsync(stopped, cancellationToken);

        logger.LogInformation("Lease {LeaseId} ended: {Outcome} ({Reason})", leaseId, outcome, reason);
        live.JobChanged(jobId);
        if (outcome == LeaseOutcome.Failed && !modelError)
        {
            await QuarantineIfFailingAsync(leaseAgent, cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// Takes an agent off work when too many of its recent units ended failed or abandoned
    /// (Cocoon:Jobs:QuarantineFailures of the last QuarantineWindow; the model's own errors do not count,
    /// unless another agent then ran the unit).
    /// It stays off until its owner or an admin returns it to work.
    /// </summary>
    private async Task QuarantineIfFailingAsync(Guid agentId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var since = await db.Agents.Where(a => a.Id == agentId).Select(a => a.QuarantineLiftedAt).SingleOrDefaultAsync(cancellationToken) ?? DateTimeOffset.MinValue;
        var recent = await db.Leases.AsNoTracking()
            .Where(l => l.AgentId == agentId && l.EndedAt != null && l.EndedAt > since)
            .OrderByDescending(l => l.EndedAt)
            .Take(settings.QuarantineWindow)
            .Select(l => new { l.Outcome, l.ModelError, UnitSucceeded = db.WorkUnits.Any(u => u.Id == l.WorkUnitId && u.State == WorkUnitState.Succeeded) })
            .ToListAsync(cancellationToken);

        // "The model is broken" is the agent's word: once another agent has run the same unit, it was not.
        var failed = recent.Count(l => l.Outcome == LeaseOutcome.Failed && (!l.ModelError || l.UnitSucceeded));
        if (failed < settings.QuarantineFailures)
        {
            return;
        }

        var reason = $"{failed} of its last {recent.Count} units failed or were abandoned.";
        var now = clock.GetUtcNow();
        var changed = await db.Agents.Where(a => a.Id == agentId && a.QuarantinedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.QuarantinedAt, now).SetProperty(a => a.QuarantineReason, reason), cancellationToken);
        if (changed > 0)
        {
            logger.LogWarning("Agent {AgentId} quarantined: {Reason}", agentId, reason);
            live.AgentsChanged();
        }
    }

    /// <summary>
    /// Puts a unit whose lease ended back in the queue, or fails it (and its job) when the failures are
    /// the unit's, not one agent's: Cocoon:Jobs:FailingAgentsPerUnit distinct agents failed it, or two
    /// distinct agents found the model itself refused (that message is shown to the developer). One
    /// agent failing a unit over and over fails nothing; it is quarantined instead.
    /// </summary>
    /// <returns>The job's other running leases, stopped when it failed: to cancel on their agents after commit.</returns>
    private async Task<IReadOnlyList<StoppedLease>> RequeueAsync(CocoonDbContext db, Job job, WorkUnit unit, LeaseOutcome outcome, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        unit.CurrentLeaseId = null;
        unit.AgentId = null;
        unit.MatricesDone = 0;
        unit.DispatchRequestedAt = null;
        unit.LastError = reason;
        // Failures before its owner last retried it were judged already.
        var failures = await db.Leases.Where(l => l.WorkUnitId == unit.Id && l.Outcome == LeaseOutcome.Failed && (unit.RetriedAt == null || l.IssuedAt >= unit.RetriedAt))
            .Select(l => new { l.AgentId, l.ModelError }).ToListAsync(cancellationToken);
        var modelAgents = failures.Where(f => f.ModelError).Select(f => f.AgentId).Distinct().Count();
        var failingAgents = failures.Select(f => f.AgentId).Distinct().Count();

        // Lost agents and expired leases are not the unit's fault, but a unit that keeps killing agents must stop somewhere.
        string? fail = modelAgents >= 2 ? $"Two agents refused the model: {reason}"
            : failingAgents >= options.Value.FailingAgentsPerUnit ? $"Unit {unit.Index} failed on {failingAgents} agents; last: {reason}"
            : unit.Attempts >= options.Value.MaxAttempts * 3 ? $"Unit {unit.Index} was attempted {unit.Attempts} times; last: {reason}"
            : null;
        if (fail is null)
        {
            unit.State = WorkUnitState.Pending;
            unit.QueuedAt = now;
            return [];
        }

        unit.State = WorkUnitState.Failed;
        return job.State is JobState.Running or JobState.Paused
            ? await JobControl.EndAsync(db, job, JobState.Failed, fail, now, cancellationToken)
            : [];
    }

    internal async Task CancelOnAgentsAsync(IReadOnlyList<StoppedLease> leases, CancellationToken cancellationToken)
    {
        foreach (var lease in leases)
        {
            await CancelOnAgentAsync(lease.AgentId, lease.LeaseId, cancellationToken);
        }
    }

    /// <summary>Tells the agent to stop a unit whose lease the portal ended (it may still be connected).</summary>
    public async Task CancelOnAgentAsync(Guid agentId, Guid leaseId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var connectionId = await db.Agents.Where(a => a.Id == agentId).Select(a => a.ConnectionId).SingleOrDefaultAsync(cancellationToken);
        if (connectionId is not null)
        {
            await agentHub.Clients.Client(connectionId).CancelAsync(leaseId);
        }
    }
}
