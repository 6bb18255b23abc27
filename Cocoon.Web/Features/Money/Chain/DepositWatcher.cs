using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Money.Chain;

/// <summary>What one pass of the watcher did.</summary>
public sealed record WatchResult(int Seen, int Credited, int Unattributed, int Ignored);

/// <summary>How far the watcher has read the deposit address (one row): transactions at or below this logical time are done.</summary>
public sealed class DepositCursor
{
    public int Id { get; set; } = 1;

    public long Lt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// Reads the platform's deposit address from the chain and credits each incoming transfer once (its
/// transaction hash is the ledger reference): to the account its comment names, or, with an unknown
/// comment, an amount below the minimum or a transfer that aborted but kept its value, to unattributed
/// deposits for finance. Bounced messages, bounceable transfers that aborted (their value went back)
/// and external messages credit nothing. It reads newest first back to its cursor, credits oldest
/// first, and moves the cursor only when it has read everything above it; two passes at once credit
/// nothing twice. Runs every minute and on demand.
/// </summary>
public sealed class DepositWatcher(IDbContextFactory<CocoonDbContext> dbFactory, ToncenterClient toncenter, IOptions<TonOptions> options, TimeProvider clock, ILogger<DepositWatcher> logger)
{
    public const string JobId = "money-deposit-watcher";

    private const int PageSize = 50;
    private const int MaxPages = 200;

    /// <summary>How often one account may ask for a look at the chain now (each look costs toncenter requests).</summary>
    public static readonly TimeSpan ManualCheckInterval = TimeSpan.FromSeconds(10);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, DateTimeOffset> ManualChecks = new();

    /// <summary>Whether <paramref name="accountId"/> may ask for a check now (at most one per <see cref="ManualCheckInterval"/>); records it when so.</summary>
    public static bool MayCheckNow(Guid accountId, DateTimeOffset now)
    {
        var allowed = true;
        ManualChecks.AddOrUpdate(accountId, now, (_, last) =>
        {
            allowed = now - last >= ManualCheckInterval;
            return allowed ? now : last;
        });
        return allowed;
    }

    [AutomaticRetry(Attempts = 0)]
    public async Task<WatchResult> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.DepositsEnabled)
        {
            return new WatchResult(0, 0, 0, 0);
        }

        long cursor;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            cursor = await db.Set<DepositCursor>().Select(c => (long?)c.Lt).SingleOrDefaultAsync(cancellationToken) ?? 0;
        }

        var fresh = new List<ChainTransfer>();
        var reachedCursor = false;
        for (var page = 0; page < MaxPages && !reachedCursor; page++)
        {
            var transfers = await toncenter.TransactionsAsync(settings.Deposit, PageSize, page * PageSize, cancellationToken);
            fresh.AddRange(transfers.Where(t => (long)t.Lt > cursor));
            reachedCursor = transfers.Count < PageSize || transfers.Any(t => (long)t.Lt <= cursor);
        }

        if (!reachedCursor)
        {
            logger.LogError("The deposit watcher read {Pages} pages without reaching its cursor; it credits what it read and does not move the cursor", MaxPages);
        }

        int credited = 0, unattributed = 0, ignored = 0;
        foreach (var transfer in fresh.DistinctBy(t => t.Hash).OrderBy(t => t.Lt))
        {
            var returned = transfer.Aborted && transfer.Bounce;
            if (transfer.Bounced || returned || transfer.Source is null || transfer.Value == 0 || transfer.Value > long.MaxValue)
            {
                ignored++;
                continue;
            }

            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var code = DepositCode.Normalize(transfer.Comment);
            var owner = code.StartsWith(DepositCode.Prefix, StringComparison.Ordinal)
                ? await db.Set<DepositCode>().Where(c => c.Code == code).Select(c => (Guid?)c.AccountId).SingleOrDefaultAsync(cancellationToken)
                : null;
            var amount = (long)transfer.Value;
            var now = clock.GetUtcNow();
            if (owner is { } account && amount >= settings.MinimumDeposit && !transfer.Aborted)
            {
                credited += await Deposits.CreditAsync(db, account, amount, transfer.Hash, $"Deposit of {Ton.Format(amount)} TON from {transfer.Source}", now, cancellationToken) ? 1 : 0;
            }
            else
            {
                var why = transfer.Aborted ? "the transfer aborted on the platform's address and kept its value"
                    : owner is null ? $"comment '{Shorten(transfer.Comment)}' names no account"
                    : "below the minimum deposit";
                unattributed += await Deposits.HoldForReviewAsync(db, owner, amount, transfer.Hash, $"Unattributed deposit of {Ton.Format(amount)} TON from {transfer.Source}: {why}", now, cancellationToken) ? 1 : 0;
            }

            await tx.CommitAsync(cancellationToken);
        }

        if (reachedCursor && fresh.Count > 0)
        {
            var newest = fresh.Max(t => (long)t.Lt);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO deposit_cursor (id, lt, updated_at) VALUES (1, {newest}, {clock.GetUtcNow()})
                ON CONFLICT (id) DO UPDATE SET lt = greatest(deposit_cursor.lt, excluded.lt), updated_at = excluded.updated_at
                """, cancellationToken);
        }

        if (credited + unattributed > 0)
        {
            logger.LogInformation("Deposits: {Credited} credited, {Unattributed} held for finance, {Ignored} ignored", credited, unattributed, ignored);
        }

        return new WatchResult(fresh.Count, credited, unattributed, ignored);
    }

    private static string Shorten(string? comment) => comment is null ? "(none)" : comment.Length > 40 ? comment[..40] + "…" : comment;
}
