using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Features.Money;

/// <summary>
/// Crediting TON that reached the platform's address: the treasury's counterpart to the developer's
/// available balance, once per chain transaction (the transaction's hash is the reference, so a chain
/// watcher that reads the same transaction twice, or two watchers at once, credit it once).
/// </summary>
public static class Deposits
{
    /// <summary>Credits <paramref name="nanotons"/> to the account; returns false when this chain transaction was credited before.</summary>
    public static async Task<bool> CreditAsync(CocoonDbContext db, Guid accountId, long nanotons, string chainTransactionHash, string memo, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nanotons);
        ArgumentException.ThrowIfNullOrWhiteSpace(chainTransactionHash);
        var treasury = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformTreasury, null, now, cancellationToken);
        var available = await LedgerBook.AccountAsync(db, LedgerAccountKind.DeveloperAvailable, accountId, now, cancellationToken);
        return await LedgerBook.PostAsync(db, "deposit", chainTransactionHash, memo, null, [(treasury, -nanotons), (available, nanotons)], now, cancellationToken, ownerAccountId: accountId);
    }

    /// <summary>Records TON that reached the platform but is nobody's yet (an unknown comment, a small amount, an aborted transfer that kept its value), for finance; once per chain transaction.</summary>
    public static async Task<bool> HoldForReviewAsync(CocoonDbContext db, Guid? claimedBy, long nanotons, string chainTransactionHash, string memo, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nanotons);
        var treasury = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformTreasury, null, now, cancellationToken);
        var unattributed = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformUnattributed, null, now, cancellationToken);
        return await LedgerBook.PostAsync(db, "deposit", chainTransactionHash, memo, null, [(treasury, -nanotons), (unattributed, nanotons)], now, cancellationToken, ownerAccountId: claimedBy);
    }
}
