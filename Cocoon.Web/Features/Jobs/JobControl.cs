using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Hosting.Live;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// What a job's owner (or an admin) may do to a job after submitting it: pause and resume it, raise its
/// budget (which resumes a job its budget paused), change its priority among their jobs, retry it
/// after it failed, and cancel it. Each is one transaction that locks
/// the job first, the order every unit and lease writer locks in.
/// </summary>
public sealed class JobControl(
    IDbContextFactory<CocoonDbContext> dbFactory,
    Dispatcher dispatcher,
    UnitLifecycle lifecycle,
    LiveUpdates live,
    TimeProvider clock,
    ILogger<JobControl> logger)
{
    /// <summary>No new unit is handed out; units already running finish and are charged.</summary>
    public Task<JobAction> PauseAsync(Viewer viewer, Guid jobId, CancellationToken cancellationToken) =>
        ChangeAsync(viewer, jobId, (db, job, now) =>
        {
            if (job.State != JobState.Running)
            {
                return Task.FromResult(JobAction.Conflict(job.State == JobState.Paused ? "The job is paused already." : $"Only a running job can be paused; this one is {Describe(job.State)}."));
            }

            job.State = JobState.Paused;
            job.PauseReason = "Paused by its owner: units already running finish, no new unit starts until it is resumed.";
            job.PausedForBudget = false;
            return Task.FromResult(JobAction.Done);
        }, cancellationToken);

    /// <summary>Units are handed out again (a budget that cannot pay for the next unit pauses it again at once).</summary>
    public Task<JobAction> ResumeAsync(Viewer viewer, Guid jobId, CancellationToken cancellationToken) =>
        ChangeAsync(viewer, jobId, (db, job, now) =>
        {
            if (job.State != JobState.Paused)
            {
                return Task.FromResult(JobAction.Conflict($"Only a paused job can be resumed; this one is {Describe(job.State)}."));
            }

            Resume(job);
            return Task.FromResult(JobAction.Done);
        }, cancellationToken);

    /// <summary>Holds <paramref name="amount"/> more nanotons for the job; a job its budget paused resumes.</summary>
    /// <exception cref="Ledger.InsufficientFundsException">The owner's available balance cannot cover it; nothing changes.</exception>
    public Task<JobAction> RaiseBudgetAsync(Viewer viewer, Guid jobId, long amount, CancellationToken cancellationToken)
    {
        if (amount <= 0 || amount > JobSubmission.MaxBudget)
        {
            return Task.FromResult(JobAction.Invalid($"Add between 1 nanoton and {Ledger.Ton.Format(JobSubmission.MaxBudget)} TON."));
        }

        return ChangeAsync(viewer, jobId, async (db, job, now) =>
        {
            if (job.State is not (JobState.Pending or JobState.Running or JobState.Paused))
            {
                return JobAction.Conflict($"The job is {Describe(job.State)}; its budget was released.");
            }

            if (job.Budget + amount > JobSubmission.MaxBudget)
            {
                return JobAction.Invalid($"A job's budget is at most {Ledger.Ton.Format(JobSubmission.MaxBudget)} TON; this one has {Ledger.Ton.Format(job.Budget)} TON.");
            }

            await Money.Billing.HoldMoreAsync(db, job.Billed(), amount, now, cancellationToken);
            job.Budget += amount;
            if (job is { State: JobState.Paused, PausedForBudget: true })
            {
                Resume(job);
            }

            return JobAction.Done;
        }, cancellationToken);
    }

    /// <summary>
    /// Gives a failed job another round: what its budget has left is held again, its failed units go
    /// back to the queue with their attempts counted afresh (only failures from now on can fail them
    /// again), and the units its failure stopped run as well. Units that succeeded stay done and paid.
    /// </summary>
    /// <exception cref="Ledger.InsufficientFundsException">The owner's available balance cannot hold the budget again; nothing changes.</exception>
    public Task<JobAction> RetryAsync(Viewer viewer, Guid jobId, CancellationToken cancellationToken) =>
        ChangeAsync(viewer, jobId, async (db, job, now) =>
        {
            if (job.State != JobState.Failed)
            {
                return JobAction.Conflict($"Only a failed job can be retried; this one is {Describe(job.State)}.");
            }

            // Units before the ledger, as a job's end orders them: the hold then locks the ledger last.
            job.Retries++;
            job.State = JobState.Running;
            job.FinishedAt = null;
            job.FailureReason = null;
            await db.SaveChangesAsync(cancellationToken);
            // Copies whose comparison never finished (the job ended first, or no two agreed) run again from scratch.
            await db.Database.ExecuteSqlAsync($"""
                UPDATE work_units SET state = 'Pending', attempts = 0, retried_at = {now}, queued_at = {now}, dispatch_requested_at = NULL,
                       vote = 'Unchecked', plain_digest = NULL, plain_digest_signature = NULL, output_blob_id = NULL,
                       current_lease_id = NULL, agent_id = NULL, matrices_done = 0
                WHERE job_id = {job.Id} AND (state = 'Failed' OR vote = 'Awaiting')
                """, cancellationToken);
            await Money.Billing.HoldForRetryAsync(db, job.Billed(), now, cancellationToken);
            logger.LogInformation("Job {JobId} retried (round {Round})", job.Id, job.Retries);
            return JobAction.Done;
        }, cancellationToken);

    /// <summary>Sets the job's order among its owner's own jobs (−10 to 10, higher first); other accounts' shares are untouched.</summary>
    public Task<JobAction> SetPriorityAsync(Viewer viewer, Guid jobId, int priority, CancellationToken cancellationToken)
    {
        if (priority is < MinPriority or > MaxPriority)
        {
            return Task.FromResult(JobAction.Invalid($"A job's priority is between {MinPriority} and {MaxPriority}; {priority} is not."));
        }

        return ChangeAsync(viewer, jobId, (db, job, now) =>
        {
            if (job.State is not (JobState.Pending or JobState.Running or JobState.Paused))
            {
                return Task.FromResult(JobAction.Conflict($"The job is {Describe(job.State)}; its priority no longer matters."));
            }

            job.Priority = priority;
            return Task.FromResult(JobAction.Done);
        }, cancellationToken);
    }

    public const int MinPriority = -10;

    public const int MaxPriority = 10;

    /// <summary>Stops the job for good: running units are cancelled on their agents, nothing more is charged, the rest of the budget is released.</summary>
    public async Task<JobAction> CancelAsync(Viewer viewer, Guid jobId, CancellationToken cancellationToken)
    {
        IReadOnlyList<StoppedLease> stopped = [];
        var result = await ChangeAsync(viewer, jobId, async (db, job, now) =>
        {
            if (job.State is not (JobState.Pending or JobState.Running or JobState.Paused))
            {
                return JobAction.Conflict($"The job is {Describe(job.State)} already.");
            }

            stopped = await EndAsync(db, job, JobState.Cancelled, null, now, cancellationToken);
            return JobAction.Done;
        }, cancellationToken);
        await lifecycle.CancelOnAgentsAsync(stopped, cancellationToken);

        if (result.Status == JobActionStatus.Done)
        {
            logger.LogInformation("Job {JobId} cancelled; {Leases} running unit(s) stopped", jobId, stopped.Count);
        }

        return result;
    }

    /// <summary>
    /// Ends a job that has not finished (cancelled or failed): its running leases end as cancelled and
    /// their units go back to pending, so no late result is counted or charged; copies still awaiting
    /// their comparison are not paid; what is left of its hold is released. The job must be locked by the caller. Returns the leases to cancel on their agents,
    /// once the transaction has committed.
    /// </summary>
    internal static async Task<IReadOnlyList<StoppedLease>> EndAsync(CocoonDbContext db, Job job, JobState state, string? reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        job.State = state;
        job.FinishedAt = now;
        job.FailureReason = reason;
        job.PauseReason = null;
        job.PausedForBudget = false;
        await db.SaveChangesAsync(cancellationToken);

        // Units before leases: the order every writer locks in.
        await db.Database.ExecuteSqlAsync($"""
            UPDATE work_units SET state = 'Pending', current_lease_id = NULL, agent_id = NULL, matrices_done = 0, dispatch_requested_at = NULL
            WHERE job_id = {job.Id} AND state IN ('Leased', 'Running')
            """, cancellationToken);
        var stopped = await db.Database.SqlQuery<StoppedLease>($"""
            UPDATE leases l SET outcome = 'Cancelled', ended_at = {now}
            FROM work_units w
            WHERE w.id = l.work_unit_id AND w.job_id = {job.Id} AND l.ended_at IS NULL
            RETURNING l.id AS lease_id, l.agent_id
            """).ToListAsync(cancellationToken);

        // Copies whose comparison had not finished are not paid (nothing showed their output right) and
        // reserve nothing now; a retry runs them again.
        await db.Database.ExecuteSqlAsync($"""
            UPDATE leases l SET awaiting_vote = false
            FROM work_units w
            WHERE w.id = l.work_unit_id AND w.job_id = {job.Id} AND l.awaiting_vote
            """, cancellationToken);
        await Money.Billing.ReleaseAsync(db, job.Billed(), now, cancellationToken);
        return stopped;
    }

    private static void Resume(Job job)
    {
        job.State = JobState.Running;
        job.PauseReason = null;
        job.PausedForBudget = false;
    }

    private static string Describe(JobState state) => state switch
    {
        JobState.Pending => "not started yet",
        _ => state.ToString().ToLowerInvariant(),
    };

    private async Task<JobAction> ChangeAsync(Viewer viewer, Guid jobId, Func<CocoonDbContext, Job, DateTimeOffset, Task<JobAction>> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        JobAction result;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var job = await JobLock.ExclusiveAsync(db, jobId, cancellationToken);
            if (job is null || (!viewer.IsAdmin && job.OwnerAccountId != viewer.AccountId))
            {
                return JobAction.NotFound($"There is no job {jobId}.");
            }

            result = await change(db, job, clock.GetUtcNow());
            if (result.Status != JobActionStatus.Done)
            {
                return result;
            }

            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        live.JobChanged(jobId);
        await dispatcher.RequestAsync(cancellationToken);
        return result;
    }
}

/// <summary>A lease a job's end stopped, to cancel on its agent.</summary>
internal sealed record StoppedLease(Guid LeaseId, Guid AgentId);

/// <summary>What became of an owner's action on a job.</summary>
public enum JobActionStatus
{
    Done,
    NotFound,
    Conflict,
    Invalid,
}

/// <summary>The outcome of a <see cref="JobControl"/> action, with the message for the person who asked.</summary>
public sealed record JobAction(JobActionStatus Status, string? Message)
{
    public static JobAction Done { get; } = new(JobActionStatus.Done, null);

    public static JobAction NotFound(string message) => new(JobActionStatus.NotFound, message);

    public static JobAction Conflict(string message) => new(JobActionStatus.Conflict, message);

    public static JobAction Invalid(string message) => new(JobActionStatus.Invalid, message);
}
