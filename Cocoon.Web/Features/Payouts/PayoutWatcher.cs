using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money.Chain;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Features.Payouts;

/// <summary>
/// Follows signed payout transfers on chain (Hangfire, every minute and after each signature). A
/// transfer is confirmed when the treasury's transaction for its normalized hash ran through and sent
/// each payout (to its wallet, its amount, its comment): each item is then paid, payable → treasury,
/// once (the transfer row is locked and must still be pending; the ledger reference is unique per item
/// and transfer). A transfer seen but not run through fails; one not seen by its validUntil plus a margin
/// expires once its valid_until has passed and the treasury's seqno shows it never ran; only then may its
/// items be signed again. A paid item whose message bounced returns its amount to the provider's
/// earnings, with a note.
/// </summary>
public sealed class PayoutWatcher(
    IDbContextFactory<CocoonDbContext> dbFactory,
    ToncenterClient chain,
    PayoutTransfers transfers,
    IOptions<PayoutOptions> options,
    TimeProvider clock,
    ILogger<PayoutWatcher> logger)
{
    public const string JobId = "payout-watcher";

    /// <summary>How long after payment a bounce is looked for.</summary>
    private static readonly TimeSpan BounceWindow = TimeSpan.FromDays(1);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (transfers.Treasury is not { } treasury)
        {
            return;
        }

        List<Guid> pending;
        List<Guid> undelivered;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            pending = await db.Set<PayoutTransfer>().Where(t => t.State == PayoutTransferState.Pending).OrderBy(t => t.CreatedAt).Select(t => t.Id).Take(200).ToListAsync(cancellationToken);
            var since = clock.GetUtcNow() - BounceWindow;
            undelivered = await db.Set<PayoutItem>().Where(i => i.State == PayoutItemState.Paid && !i.Delivered && i.OutMessageHash != null && i.PaidAt > since)
                .OrderBy(i => i.PaidAt).Select(i => i.Id).Take(500).ToListAsync(cancellationToken);
        }

        foreach (var id in pending)
        {
            try
            {
                await FollowAsync(id, treasury.ToRaw(), cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                logger.LogWarning("Payout transfer {TransferId}: the chain did not answer ({Message}); next pass", id, ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One transfer that cannot be followed must not hold up the others.
                logger.LogError(ex, "Payout transfer {TransferId} could not be followed; next pass", id);
            }
        }

        foreach (var id in undelivered)
        {
            try
            {
                await CheckDeliveryAsync(id, treasury.ToRaw(), cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                logger.LogWarning("Payout item {ItemId}: the chain did not answer ({Message}); next pass", id, ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Payout item {ItemId}: its delivery could not be checked; next pass", id);
            }
        }
    }

    private async Task FollowAsync(Guid transferId, string treasury, CancellationToken cancellationToken)
    {
        byte[] hash;
        await using (var read = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            hash = await read.Set<PayoutTransfer>().Where(t => t.Id == transferId).Select(t => t.NormalizedHash).SingleAsync(cancellationToken);
        }

        // Asked before the lock: the chain is slow, the lock is short. A run that went through wins over
        // one that did not (an aborted run leaves the message valid, and it may run again).
        var runs = (await chain.TransactionsByMessageAsync(hash, cancellationToken)).Where(t => t.Account == treasury && t.In is { Source: null }).ToList();
        var seen = runs.FirstOrDefault(t => t.Succeeded) ?? runs.FirstOrDefault();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var transfer = await db.Set<PayoutTransfer>().FromSql($"SELECT * FROM payout_transfers WHERE id = {transferId} FOR UPDATE").SingleAsync(cancellationToken);
        if (transfer.State != PayoutTransferState.Pending)
        {
            return;
        }

        // Batch before items, the order a signature takes them in.
        await db.Set<PayoutBatch>().FromSql($"SELECT * FROM payout_batches WHERE id = {transfer.BatchId} FOR UPDATE").SingleAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var items = await db.Set<PayoutItem>().FromSql($"SELECT * FROM payout_items WHERE transfer_id = {transferId} ORDER BY id FOR UPDATE").ToListAsync(cancellationToken);
        if (seen is not { Succeeded: true })
        {
            // Not seen, or seen not running through: the message stays valid until its valid_until, so its
            // payouts are freed only after that, and only while the treasury's seqno shows it never ran.
            if (now <= transfer.ValidUntil + options.Value.ExpiryMargin)
            {
                return;
            }

            var seqno = await chain.SeqnoAsync(transfers.Treasury!.Value, cancellationToken);
            var signed = PayoutTransfers.SignedSeqno(transfer.Boc);
            if (seqno > signed)
            {
                var why = $"Past its valid_until, but the treasury's seqno ({seqno}) has moved past this message's ({signed}) and the indexer shows no run of it that went through: reconcile before signing its payouts again.";
                if (transfer.Failure != why)
                {
                    transfer.Failure = why;
                    PayoutAudits.Record(db, now, null, "transfer-unresolved", why, transfer.BatchId);
                    logger.LogWarning("Payout transfer {TransferId}: {Why}", transferId, why);
                }
            }
            else if (seen is null)
            {
                End(db, transfer, items, PayoutTransferState.Expired, $"Not seen on chain by {transfer.ValidUntil:u} and a margin, and the treasury's seqno shows it never ran: it can no longer land. Its payouts may be signed again.", now);
            }
            else
            {
                transfer.ChainTxHash = seen.Hash;
                End(db, transfer, items, PayoutTransferState.Failed, $"The treasury's transaction {seen.Hash} did not run through ({(seen.Aborted ? "aborted" : "compute or action phase failed")}) and the message has expired: nothing was paid. Its payouts may be signed again.", now);
            }
        }
        else
        {
            var paid = 0;
            foreach (var item in items)
            {
                // Found by wallet and comment: a payout that went out is never signed again, whatever its value.
                var message = seen.Out.FirstOrDefault(m => m.Destination == item.Wallet && m.Comment == PayoutTransfers.Comment(item.Id));
                item.TransferId = null;
                if (message is null)
                {
                    PayoutAudits.Record(db, now, null, "payout-missing", $"Transaction {seen.Hash} sent no payout for this item; it may be signed again.", transfer.BatchId, item.Id);
                    continue;
                }

                if ((long)message.Value != item.Amount)
                {
                    PayoutAudits.Record(db, now, null, "payout-amount-differs", $"Transaction {seen.Hash} sent {message.Value} nanotons for this item of {item.Amount}: paid, for finance to reconcile.", transfer.BatchId, item.Id);
                }

                await PayAsync(db, transfer, item, seen.Hash, message.Hash, now, cancellationToken);
                paid++;
            }

            transfer.State = paid == items.Count ? PayoutTransferState.Confirmed : PayoutTransferState.Failed;
            transfer.Failure = paid == items.Count ? null : $"{items.Count - paid} of its {items.Count} payouts were not sent.";
            transfer.ChainTxHash = seen.Hash;
            transfer.SettledAt = now;
            PayoutAudits.Record(db, now, null, "transfer-confirmed", $"Transaction {seen.Hash} paid {paid} of {items.Count} payouts.", transfer.BatchId, totalAfter: items.Where(i => i.State == PayoutItemState.Paid).Sum(i => i.Amount));
            await db.SaveChangesAsync(cancellationToken);
            if (!await db.Set<PayoutItem>().AnyAsync(i => i.BatchId == transfer.BatchId && i.State == PayoutItemState.Payable, cancellationToken))
            {
                await db.Set<PayoutBatch>().Where(b => b.Id == transfer.BatchId && b.State == PayoutBatchState.Approved)
                    .ExecuteUpdateAsync(s => s.SetProperty(b => b.State, PayoutBatchState.Paid), cancellationToken);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        logger.LogInformation("Payout transfer {TransferId}: {State}", transferId, transfer.State);
    }

    private static void End(CocoonDbContext db, PayoutTransfer transfer, List<PayoutItem> items, PayoutTransferState state, string reason, DateTimeOffset now)
    {
        transfer.State = state;
        transfer.Failure = reason;
        transfer.SettledAt = now;
        foreach (var item in items)
        {
            item.TransferId = null;
        }

        PayoutAudits.Record(db, now, null, state == PayoutTransferState.Expired ? "transfer-expired" : "transfer-failed", reason, transfer.BatchId, totalBefore: items.Sum(i => i.Amount), totalAfter: 0);
    }

    private static async Task PayAsync(CocoonDbContext db, PayoutTransfer transfer, PayoutItem item, string chainTx, string? outMessage, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var payable = await LedgerBook.AccountAsync(db, LedgerAccountKind.ProviderPayable, item.AccountId, now, cancellationToken);
        var treasury = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformTreasury, null, now, cancellationToken);
        await LedgerBook.PostAsync(db, "payout", $"payout:{item.Id}:{transfer.Id}", $"Payout of {Ledger.Ton.Format(item.Amount)} TON, chain transaction {chainTx}", null,
            [(payable, -item.Amount), (treasury, item.Amount)], now, cancellationToken, ownerAccountId: item.AccountId);
        item.State = PayoutItemState.Paid;
        item.PaidTransferId = transfer.Id;
        item.PaidTxHash = chainTx;
        item.OutMessageHash = outMessage;
        item.PaidAt = now;
        item.Note = null;
    }

    /// <summary>Looks at the provider's side of a paid item: accepted, or bounced (then payable again, with a note).</summary>
    private async Task CheckDeliveryAsync(Guid itemId, string treasury, CancellationToken cancellationToken)
    {
        string outMessage;
        string wallet;
        await using (var read = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var item = await read.Set<PayoutItem>().AsNoTracking().SingleAsync(i => i.Id == itemId, cancellationToken);
            (outMessage, wallet) = (item.OutMessageHash!, item.Wallet);
        }

        var arrived = (await chain.TransactionsByMessageAsync(Convert.FromHexString(outMessage), cancellationToken)).FirstOrDefault(t => t.Account == wallet);
        if (arrived is null)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var locked = await db.Set<PayoutItem>().FromSql($"SELECT * FROM payout_items WHERE id = {itemId} FOR UPDATE").SingleAsync(cancellationToken);
        if (locked.State != PayoutItemState.Paid || locked.Delivered || locked.OutMessageHash != outMessage)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var bounced = arrived.Aborted && arrived.Out.Any(m => m.Bounced && m.Destination == treasury);
        if (!bounced)
        {
            locked.Delivered = true;
        }
        else
        {
            // The value came back to the treasury: the provider is owed it again, as earnings, so the next
            // payable item goes to the payout wallet they set then (not the one that bounced it).
            var earned = await LedgerBook.AccountAsync(db, LedgerAccountKind.ProviderEarned, locked.AccountId, now, cancellationToken);
            var treasuryAccount = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformTreasury, null, now, cancellationToken);
            await LedgerBook.PostAsync(db, "payout-bounce", $"bounce:{locked.Id}:{locked.PaidTransferId}", $"Payout of {Ledger.Ton.Format(locked.Amount)} TON bounced by the wallet (transaction {arrived.Hash})", null,
                [(treasuryAccount, -locked.Amount), (earned, locked.Amount)], now, cancellationToken, ownerAccountId: locked.AccountId);
            PayoutAudits.Record(db, now, null, "payout-bounced", $"The wallet did not accept the payout (transaction {arrived.Hash}); the amount is back in the provider's earnings.", locked.BatchId, locked.Id, locked.Amount, 0);
            locked.State = PayoutItemState.Bounced;
            locked.PaidTransferId = null;
            locked.PaidTxHash = null;
            locked.PaidAt = null;
            locked.Note = $"A payout of {Ledger.Ton.Format(locked.Amount)} TON bounced on {now:yyyy-MM-dd}: your payout wallet did not accept it. The amount is back in your earnings and goes out with the next payout, to the payout wallet set then; check it on My payouts.";
            logger.LogWarning("Payout item {ItemId} bounced; its amount is back in earnings", locked.Id);
        }

        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }
}
