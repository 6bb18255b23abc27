using System.Globalization;
using Cocoon.Shared.Ton;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Ledger;
using Microsoft.EntityFrameworkCore;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Features.Money;

/// <summary>A deposit finance has to place: its chain transaction, amount and why it was not credited.</summary>
public sealed record UnattributedDeposit(string Hash, DateTimeOffset At, string Amount, string AmountTon, string Memo);

/// <summary>A finance user's decision: the deposit belongs to this wallet's account.</summary>
public sealed record AssignRequest(string? Wallet);

/// <summary>A deposit that cannot be assigned; the message says why.</summary>
public sealed class InvalidAssignmentException(string message) : Exception(message);

/// <summary>Deposits the watcher could not credit (unknown comment, below the minimum), and finance's assignment of them to an account.</summary>
public static class Unattributed
{
    public static async Task<IReadOnlyList<UnattributedDeposit>> ListAsync(CocoonDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var code = LedgerBook.Code(LedgerAccountKind.PlatformUnattributed, null);
        var assigned = db.Set<LedgerTransaction>().Where(t => t.Kind == "assign").Select(t => t.Reference);
        var rows = await (from t in db.Set<LedgerTransaction>()
                          join e in db.Set<LedgerEntry>() on t.Id equals e.TransactionId
                          join a in db.Set<LedgerAccount>() on e.AccountId equals a.Id
                          where t.Kind == "deposit" && a.Code == code && !assigned.Contains(t.Reference)
                          orderby t.CreatedAt
                          select new { t.Reference, t.CreatedAt, e.Amount, t.Memo }).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new UnattributedDeposit(r.Reference, r.CreatedAt, r.Amount.ToString(CultureInfo.InvariantCulture), Ton.Format(r.Amount), r.Memo))];
    }

    /// <summary>Moves an unattributed deposit to the available balance of the account signed in with <paramref name="wallet"/>, once.</summary>
    /// <exception cref="InvalidAssignmentException">No such unassigned deposit, or no account for that wallet.</exception>
    public static async Task AssignAsync(CocoonDbContext db, string hash, string? wallet, string byWhom, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (!TonAddress.TryParse(wallet, out var address))
        {
            throw new InvalidAssignmentException("Name the wallet the deposit belongs to (any address form).");
        }

        var raw = address.ToRaw();
        var owner = await db.Set<Account>().Where(a => a.Address == raw).Select(a => (Guid?)a.Id).SingleOrDefaultAsync(cancellationToken)
            ?? throw new InvalidAssignmentException($"No account has signed in with wallet {address.ToFriendly()}.");
        var deposit = (await ListAsync(db, cancellationToken)).FirstOrDefault(d => d.Hash == hash)
            ?? throw new InvalidAssignmentException("There is no unassigned deposit with that chain transaction.");
        var amount = long.Parse(deposit.Amount, CultureInfo.InvariantCulture);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var unattributed = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformUnattributed, null, now, cancellationToken);
        var available = await LedgerBook.AccountAsync(db, LedgerAccountKind.DeveloperAvailable, owner, now, cancellationToken);
        if (!await LedgerBook.PostAsync(db, "assign", hash, $"Deposit assigned by {byWhom}", null, [(unattributed, -amount), (available, amount)], now, cancellationToken, ownerAccountId: owner))
        {
            throw new InvalidAssignmentException("That deposit was assigned already.");
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
