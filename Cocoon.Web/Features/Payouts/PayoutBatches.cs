using System.Globalization;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Payouts;

/// <summary>A payout item as finance reviews it; amounts are nanotons as strings.</summary>
public sealed record PayoutItemView(
    Guid Id, Guid AccountId, string Provider, string Wallet, string Amount, string AmountTon, string State, DateTimeOffset CreatedAt,
    Guid? BatchId, string? PaidTxHash, DateTimeOffset? PaidAt, string? Note, IReadOnlyList<string> Flags);

/// <summary>A signed transfer of a batch, with its chain state.</summary>
public sealed record PayoutTransferView(Guid Id, string NormalizedHash, string State, DateTimeOffset ValidUntil, DateTimeOffset CreatedAt, string? ChainTxHash, string? Failure, int Items);

/// <summary>A batch with its items and transfers.</summary>
public sealed record PayoutBatchView(
    Guid Id, string State, Guid CreatedBy, string CreatedByWallet, DateTimeOffset CreatedAt, Guid? DecidedBy, string? DecidedByWallet, DateTimeOffset? DecidedAt, string? DecisionNote,
    string Total, string TotalTon, int ItemCount, string Paid, string PaidTon, IReadOnlyList<PayoutItemView> Items, IReadOnlyList<PayoutTransferView> Transfers);

/// <summary>Body of POST /api/finance/payout-batches.</summary>
public sealed record CreatePayoutBatchRequest(IReadOnlyList<Guid>? ItemIds);

/// <summary>Body of the approve and reject calls.</summary>
public sealed record PayoutDecisionRequest(string? Note);

/// <summary>
/// Maker and checker: one Finance user proposes a batch of payable items, a different Finance user
/// approves or rejects it. The database holds the line too (approver ≠ maker; both Finance when it is
/// decided), and every action goes into the append-only audit log with the batch's totals.
/// </summary>
public sealed class PayoutBatches(IDbContextFactory<CocoonDbContext> dbFactory, PayoutSettingsService settings, TimeProvider clock, ILogger<PayoutBatches> logger)
{
    /// <summary>Payable items not in a batch, oldest first, with what finance should look at twice.</summary>
    public async Task<IReadOnlyList<PayoutItemView>> PayablesAsync(Guid? provider, long? minAmount, int? olderThanDays, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var before = olderThanDays is { } days ? clock.GetUtcNow().AddDays(-days) : (DateTimeOffset?)null;
        var items = await db.Set<PayoutItem>().AsNoTracking()
            .Where(i => i.State == PayoutItemState.Payable && i.BatchId == null)
            .Where(i => provider == null || i.AccountId == provider)
            .Where(i => minAmount == null || i.Amount >= minAmount)
            .Where(i => before == null || i.CreatedAt <= before)
            .OrderBy(i => i.CreatedAt).Take(1000).ToListAsync(cancellationToken);
        return await ViewsAsync(db, items, cancellationToken);
    }

    /// <summary>A provider's own payout items, newest first.</summary>
    public async Task<IReadOnlyList<PayoutItemView>> HistoryAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var items = await db.Set<PayoutItem>().AsNoTracking().Where(i => i.AccountId == accountId).OrderByDescending(i => i.CreatedAt).Take(200).ToListAsync(cancellationToken);
        return await ViewsAsync(db, items, cancellationToken);
    }

    public async Task<IReadOnlyList<PayoutBatchView>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await BatchViewsAsync(db, db.Set<PayoutBatch>().OrderByDescending(b => b.CreatedAt).Take(100), cancellationToken);
    }

    public async Task<PayoutBatchView?> GetAsync(Guid batchId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await ViewAsync(db, batchId, cancellationToken);
    }

    /// <summary>Proposes a batch of payable items not in another batch.</summary>
    public async Task<PayoutResult<PayoutBatchView>> CreateAsync(Guid maker, IReadOnlyList<Guid> itemIds, CancellationToken cancellationToken)
    {
        var ids = itemIds.Distinct().ToList();
        if (ids.Count is 0 or > 1000)
        {
            return PayoutResult.Fail<PayoutBatchView>(StatusCodes.Status400BadRequest, "bad_items", "Name between 1 and 1000 payable items.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var items = await db.Set<PayoutItem>().FromSql($"SELECT * FROM payout_items WHERE id = ANY({ids.ToArray()}) ORDER BY id FOR UPDATE").ToListAsync(cancellationToken);
        var free = items.Where(i => i.State == PayoutItemState.Payable && i.BatchId == null).ToList();
        if (free.Count != ids.Count)
        {
            var taken = ids.Except(free.Select(i => i.Id)).ToList();
            return PayoutResult.Fail<PayoutBatchView>(StatusCodes.Status409Conflict, "items_not_payable",
                $"{taken.Count} of the items are not payable or are in another batch: {string.Join(", ", taken.Take(5))}{(taken.Count > 5 ? ", …" : "")}.");
        }

        var now = clock.GetUtcNow();
        var batch = new PayoutBatch { Id = Guid.CreateVersion7(), State = PayoutBatchState.Proposed, CreatedBy = maker, CreatedAt = now, Total = free.Sum(i => i.Amount), ItemCount = free.Count };
        db.Add(batch);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var item in free)
        {
            item.BatchId = batch.Id;
        }

        PayoutAudits.Record(db, now, maker, "batch-proposed", $"Batch of {free.Count} payouts, {Ledger.Ton.Format(batch.Total)} TON.", batch.Id, totalBefore: 0, totalAfter: batch.Total);
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return PayoutResult.Done((await ViewAsync(db, batch.Id, cancellationToken))!);
    }

    /// <summary>The checker's decision. The maker cannot decide; a decided batch cannot be decided again.</summary>
    public async Task<PayoutResult<PayoutBatchView>> DecideAsync(Guid checker, Guid batchId, bool approve, string? note, CancellationToken cancellationToken)
    {
        note = string.IsNullOrWhiteSpace(note) ? null : note.Trim();
        if (note is { Length: > 1000 })
        {
            return PayoutResult.Fail<PayoutBatchView>(StatusCodes.Status400BadRequest, "bad_note", "A note is at most 1000 characters.");
        }

        if (!approve && note is null)
        {
            return PayoutResult.Fail<PayoutBatchView>(StatusCodes.Status400BadRequest, "note_required", "Say why the batch is rejected.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var batch = await db.Set<PayoutBatch>().FromSql($"SELECT * FROM payout_batches WHERE id = {batchId} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
        if (batch is null)
        {
            return PayoutResult.Fail<PayoutBatchView>(StatusCodes.Status404NotFound, "no_batch", $"There is no payout batch {batchId}.");
        }

        if (batch.CreatedBy == checker)
        {
            return PayoutResult.Fail<PayoutBatchView>(StatusCodes.Status403Forbidden, "maker_cannot_decide", "You made this batch; another Finance user must approve or reject it.");
        }

        if (batch.State != PayoutBatchState.Proposed)
        {
            return PayoutResult.Fail<PayoutBatchView>(StatusCodes.Status409Conflict, "already_decided", $"The batch is {batch.State.ToString().ToLowerInvariant()} already.");
        }

        var now = clock.GetUtcNow();
        batch.State = approve ? PayoutBatchState.Approved : PayoutBatchState.Rejected;
        batch.DecidedBy = checker;
        batch.DecidedAt = now;
        batch.DecisionNote = note;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.GetBaseException() is Npgsql.PostgresException { SqlState: "P0001" or "23514" } pg)
        {
            // The database's own four-eyes check: a decider or maker who is not Finance (any more).
            logger.LogWarning("Payout batch {BatchId} decision refused by the database: {Message}", batchId, pg.MessageText);
            return PayoutResult.Fail<PayoutBatchView>(StatusCodes.Status403Forbidden, "not_finance", pg.MessageText);
        }

        if (!approve)
        {
            // Items locked in id order, as a new batch locks them.
            var items = await db.Set<PayoutItem>().FromSql($"SELECT * FROM payout_items WHERE batch_id = {batch.Id} ORDER BY id FOR UPDATE").ToListAsync(cancellationToken);
            foreach (var item in items)
            {
                item.BatchId = null;
            }
        }

        PayoutAudits.Record(db, now, checker, approve ? "batch-approved" : "batch-rejected", note ?? (approve ? "Approved." : ""), batch.Id, totalBefore: batch.Total, totalAfter: approve ? batch.Total : 0);
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return PayoutResult.Done((await ViewAsync(db, batch.Id, cancellationToken))!);
    }

    /// <summary>The audit log, newest first.</summary>
    public async Task<IReadOnlyList<PayoutAudit>> AuditAsync(int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<PayoutAudit>().AsNoTracking().OrderByDescending(a => a.Id).Take(take).ToListAsync(cancellationToken);
    }

    private async Task<PayoutBatchView?> ViewAsync(CocoonDbContext db, Guid batchId, CancellationToken cancellationToken) =>
        (await BatchViewsAsync(db, db.Set<PayoutBatch>().Where(b => b.Id == batchId), cancellationToken)).SingleOrDefault();

    /// <summary>The batches with their items and transfers, in a few queries however many batches there are.</summary>
    private async Task<IReadOnlyList<PayoutBatchView>> BatchViewsAsync(CocoonDbContext db, IQueryable<PayoutBatch> query, CancellationToken cancellationToken)
    {
        var batches = await query.AsNoTracking().ToListAsync(cancellationToken);
        var ids = batches.Select(b => b.Id).ToList();
        var items = await db.Set<PayoutItem>().AsNoTracking().Where(i => i.BatchId != null && ids.Contains(i.BatchId.Value)).OrderBy(i => i.CreatedAt).ToListAsync(cancellationToken);
        var itemViews = (await ViewsAsync(db, items, cancellationToken)).ToLookup(v => v.BatchId);
        var transfers = (await db.Set<PayoutTransfer>().AsNoTracking().Where(t => ids.Contains(t.BatchId)).OrderByDescending(t => t.CreatedAt).ToListAsync(cancellationToken)).ToLookup(t => t.BatchId);
        var personIds = batches.Select(b => b.CreatedBy).Concat(batches.Where(b => b.DecidedBy != null).Select(b => b.DecidedBy!.Value)).Distinct().ToList();
        var people = await db.Set<Account>().AsNoTracking().Where(a => personIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.FriendlyAddress, cancellationToken);
        return [.. batches.Select(batch =>
        {
            var mine = items.Where(i => i.BatchId == batch.Id).ToList();
            var paid = mine.Where(i => i.State == PayoutItemState.Paid).Sum(i => i.Amount);
            return new PayoutBatchView(batch.Id, batch.State.ToString(), batch.CreatedBy, people.GetValueOrDefault(batch.CreatedBy, "?"), batch.CreatedAt,
                batch.DecidedBy, batch.DecidedBy is { } d ? people.GetValueOrDefault(d, "?") : null, batch.DecidedAt, batch.DecisionNote,
                Nano(batch.Total), Ledger.Ton.Format(batch.Total), batch.ItemCount, Nano(paid), Ledger.Ton.Format(paid),
                [.. itemViews[batch.Id]],
                [.. transfers[batch.Id].Select(t => new PayoutTransferView(t.Id, Convert.ToHexStringLower(t.NormalizedHash), t.State.ToString(), t.ValidUntil, t.CreatedAt, t.ChainTxHash, t.Failure,
                    mine.Count(i => (i.PaidTransferId ?? i.TransferId) == t.Id)))]);
        })];
    }

    private async Task<IReadOnlyList<PayoutItemView>> ViewsAsync(CocoonDbContext db, IReadOnlyList<PayoutItem> items, CancellationToken cancellationToken)
    {
        var owners = items.Select(i => i.AccountId).Distinct().ToList();
        var providers = await db.Set<Account>().AsNoTracking().Where(a => owners.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.FriendlyAddress, cancellationToken);
        var stored = await db.Set<PayoutSettings>().AsNoTracking().Where(s => owners.Contains(s.AccountId)).ToDictionaryAsync(s => s.AccountId, cancellationToken);
        var quarantined = await db.Agents.AsNoTracking().Where(a => a.OwnerAccountId != null && owners.Contains(a.OwnerAccountId.Value) && a.QuarantinedAt != null)
            .Select(a => new { Owner = a.OwnerAccountId!.Value, a.QuarantinedAt, a.Name }).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        return [.. items.Select(i =>
        {
            var flags = new List<string>();
            if (stored.TryGetValue(i.AccountId, out var s) && s.WalletChangedAt > now.AddDays(-7))
            {
                flags.Add($"payout wallet changed {s.WalletChangedAt:yyyy-MM-dd}");
            }

            if (s?.HoldUntil > now)
            {
                flags.Add($"on hold until {s.HoldUntil:yyyy-MM-dd HH:mm} UTC");
            }

            if (s is not null && s.Wallet != i.Wallet)
            {
                flags.Add("wallet differs from the current payout wallet");
            }

            flags.AddRange(quarantined.Where(q => q.Owner == i.AccountId).Select(q => $"agent {q.Name} quarantined {q.QuarantinedAt:yyyy-MM-dd}"));
            var state = i.State == PayoutItemState.Bounced ? "Bounced" : i.State == PayoutItemState.Paid ? (i.Delivered ? "Delivered" : "Paid") : i.TransferId is not null ? "Sending" : i.BatchId is not null ? "In batch" : "Payable";
            return new PayoutItemView(i.Id, i.AccountId, providers.GetValueOrDefault(i.AccountId, "?"), settings.Friendly(i.Wallet), Nano(i.Amount), Ledger.Ton.Format(i.Amount), state,
                i.CreatedAt, i.BatchId, i.PaidTxHash, i.PaidAt, i.Note, flags);
        })];
    }

    private static string Nano(long amount) => amount.ToString(CultureInfo.InvariantCulture);
}
