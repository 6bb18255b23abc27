using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Microsoft.EntityFrameworkCore;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Features.Money;

/// <summary>
/// A job's money, each step inside the transaction of the state change it pays for: the budget held
/// at submission, each succeeded unit's charge moved from the hold to the provider's earnings and the
/// platform's fee, and what is left released when the job ends. Failed, superseded and expired leases
/// cost nothing: only a unit's success settles it, once (the settlement is unique per unit).
/// </summary>
public static class Billing
{
    /// <summary>Holds the job's budget out of its owner's available balance.</summary>
    /// <exception cref="InsufficientFundsException">The balance cannot cover the budget.</exception>
    public static Task HoldAsync(CocoonDbContext db, BilledJob job, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return HoldAsync(db, job, job.Budget, job.RoundReference, $"Budget held for job '{job.Name}'", now, cancellationToken);
    }

    /// <summary>Holds again what a failed job's budget has left (its charges so far subtracted), for a retry of its failed units.</summary>
    /// <exception cref="InsufficientFundsException">The balance cannot cover it.</exception>
    public static async Task HoldForRetryAsync(CocoonDbContext db, BilledJob job, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var left = job.Budget - await ChargedAsync(db, job.Id, cancellationToken);
        await HoldAsync(db, job, left, job.RoundReference, $"Budget held again for job '{job.Name}' (retry {job.Round})", now, cancellationToken);
    }

    /// <summary>Holds more for a job whose owner raised its budget (each raise is its own transaction).</summary>
    /// <exception cref="InsufficientFundsException">The balance cannot cover the raise.</exception>
    public static Task HoldMoreAsync(CocoonDbContext db, BilledJob job, long amount, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return HoldAsync(db, job, amount, $"job:{job.Id}:raise:{Guid.CreateVersion7()}", $"Budget of job '{job.Name}' raised", now, cancellationToken);
    }

    private static async Task HoldAsync(CocoonDbContext db, BilledJob job, long amount, string reference, string memo, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (amount <= 0 || job.OwnerAccountId is not { } owner)
        {
            return;
        }

        var available = await LedgerBook.AccountAsync(db, LedgerAccountKind.DeveloperAvailable, owner, now, cancellationToken);
        var held = await LedgerBook.AccountAsync(db, LedgerAccountKind.DeveloperHeld, owner, now, cancellationToken, job.Id);
        await LedgerBook.PostAsync(db, "hold", reference, memo, job.Id, [(available, -amount), (held, amount)], now, cancellationToken);
    }

    /// <summary>What is still held for the job (its hold less what its units have settled).</summary>
    public static async Task<long> HeldForJobAsync(CocoonDbContext db, BilledJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.OwnerAccountId is not { } owner)
        {
            return 0;
        }

        return await LedgerBook.BalanceAsync(db, LedgerAccountKind.DeveloperHeld, owner, cancellationToken, job.Id);
    }

    /// <summary>What the job has been charged so far (costs and fees of its settled units).</summary>
    public static Task<long> ChargedAsync(CocoonDbContext db, Guid jobId, CancellationToken cancellationToken) =>
        (from e in db.Set<LedgerEntry>()
         join t in db.Set<LedgerTransaction>() on e.TransactionId equals t.Id
         where t.JobId == jobId && t.Kind == "settle" && e.Amount > 0
         select e.Amount).SumAsync(cancellationToken);

    /// <summary>
    /// Moves a succeeded unit's charge from the job's hold to the agent owner's earnings and the
    /// platform's fee (to the fees when the agent has no owner). Settles a unit once.
    /// </summary>
    public static async Task SettleAsync(CocoonDbContext db, BilledJob job, BilledUnit unit, RegisteredAgentOwner agent, long cost, long fee, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentNullException.ThrowIfNull(agent);
        if (cost + fee <= 0 || job.OwnerAccountId is not { } owner)
        {
            return;
        }

        var held = await LedgerBook.AccountAsync(db, LedgerAccountKind.DeveloperHeld, owner, now, cancellationToken, job.Id);
        var fees = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformFees, null, now, cancellationToken);
        var earned = agent.OwnerAccountId is { } provider
            ? await LedgerBook.AccountAsync(db, LedgerAccountKind.ProviderEarned, provider, now, cancellationToken)
            : fees;
        await LedgerBook.PostAsync(db, "settle", $"unit:{unit.Id}", $"Unit {unit.Index} of job '{job.Name}' on agent {agent.Name}", job.Id,
            [(held, -(cost + fee)), (earned, cost), (fees, fee)], now, cancellationToken, agent.Id);
    }

    /// <summary>Releases what is left of the job's hold to its owner's available balance (once per round, when the job ends).</summary>
    public static async Task ReleaseAsync(CocoonDbContext db, BilledJob job, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var remaining = await HeldForJobAsync(db, job, cancellationToken);
        if (remaining <= 0 || job.OwnerAccountId is not { } owner)
        {
            return;
        }

        var available = await LedgerBook.AccountAsync(db, LedgerAccountKind.DeveloperAvailable, owner, now, cancellationToken);
        var held = await LedgerBook.AccountAsync(db, LedgerAccountKind.DeveloperHeld, owner, now, cancellationToken, job.Id);
        await LedgerBook.PostAsync(db, "release", job.RoundReference, $"Rest of the budget of job '{job.Name}' released", job.Id,
            [(held, -remaining), (available, remaining)], now, cancellationToken);
    }
}

/// <summary>A job as billing needs it.</summary>
/// <param name="Round">How many times the job was retried after failing: each round holds and releases its budget once.</param>
public sealed record BilledJob(Guid Id, string Name, Guid? OwnerAccountId, long Budget, int Round = 0)
{
    /// <summary>The reference of this round's hold and release: the job's own for the first, numbered for each retry.</summary>
    public string RoundReference => Round == 0 ? $"job:{Id}" : $"job:{Id}:round:{Round}";
}

/// <summary>A unit as billing needs it.</summary>
public sealed record BilledUnit(Guid Id, int Index);

/// <summary>The agent a unit ran on, as billing needs it.</summary>
public sealed record RegisteredAgentOwner(Guid Id, string Name, Guid? OwnerAccountId);
