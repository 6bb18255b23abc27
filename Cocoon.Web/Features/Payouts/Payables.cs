using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Microsoft.EntityFrameworkCore;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Features.Payouts;

/// <summary>
/// The recurring step that turns a provider's earnings, once at or above their threshold, into a payout
/// item: one ledger transaction (earned → payable) and the item, committed together. Idempotent: two runs
/// at once cannot move the same earnings twice (the earned account cannot go negative, so the second is
/// refused and skipped).
/// </summary>
public sealed class Payables(IDbContextFactory<CocoonDbContext> dbFactory, PayoutSettingsService settings, TimeProvider clock, ILogger<Payables> logger)
{
    public const string JobId = "payout-payables";

    /// <summary>Makes the payout items that are due; returns how many.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        List<(Guid Owner, long Balance)> earners;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            earners = [.. (await db.Set<LedgerAccount>().AsNoTracking()
                .Where(a => a.Kind == LedgerAccountKind.ProviderEarned && a.Balance > 0 && a.OwnerAccountId != null)
                .Select(a => new { Owner = a.OwnerAccountId!.Value, a.Balance })
                .ToListAsync(cancellationToken)).Select(a => (a.Owner, a.Balance))];
        }

        var made = 0;
        foreach (var (owner, balance) in earners)
        {
            if (await MakeItemAsync(owner, balance, cancellationToken))
            {
                made++;
            }
        }

        return made;
    }

    private async Task<bool> MakeItemAsync(Guid owner, long balance, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var payout = await settings.EffectiveAsync(db, owner, cancellationToken);
        if (balance < payout.Threshold || payout.HoldUntil > now)
        {
            return false;
        }

        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var item = new PayoutItem { Id = Guid.CreateVersion7(), AccountId = owner, Wallet = payout.Wallet, Amount = balance, State = PayoutItemState.Payable, CreatedAt = now };
        try
        {
            var earned = await LedgerBook.AccountAsync(db, LedgerAccountKind.ProviderEarned, owner, now, cancellationToken);
            var payable = await LedgerBook.AccountAsync(db, LedgerAccountKind.ProviderPayable, owner, now, cancellationToken);
            await LedgerBook.PostAsync(db, "payable", $"payout-item:{item.Id}", $"Earnings of {Ledger.Ton.Format(balance)} TON made payable", null,
                [(earned, -balance), (payable, balance)], now, cancellationToken, ownerAccountId: owner);
        }
        catch (InsufficientFundsException)
        {
            // Another run moved these earnings first.
            return false;
        }

        db.Add(item);
        PayoutAudits.Record(db, now, null, "payable", $"{Ledger.Ton.Format(balance)} TON of earnings became payable to {settings.Friendly(payout.Wallet)}.", itemId: item.Id, totalAfter: balance);
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        logger.LogInformation("Payout item {ItemId}: {Amount} nanotons payable to account {AccountId}", item.Id, balance, owner);
        return true;
    }
}
