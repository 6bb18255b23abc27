using System.Security.Cryptography;
using System.Text;
using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Ledger;

/// <summary>The ledger checked end to end, as finance reads it.</summary>
/// <param name="Entries">How many entries were read.</param>
/// <param name="ChainIntact">Every entry's hash is SHA-256 of the one before and its own fields, in order, with no gap.</param>
/// <param name="FirstBrokenSeq">Where the chain first breaks; null when intact.</param>
/// <param name="TrialBalance">The sum of every balance (zero when the books balance).</param>
/// <param name="UnbalancedTransactions">Transactions whose entries do not sum to zero.</param>
/// <param name="MismatchedAccounts">Accounts whose kept balance is not the sum of their entries.</param>
public sealed record LedgerCheck(long Entries, bool ChainIntact, long? FirstBrokenSeq, long TrialBalance, IReadOnlyList<Guid> UnbalancedTransactions, IReadOnlyList<string> MismatchedAccounts)
{
    public bool Holds => ChainIntact && TrialBalance == 0 && UnbalancedTransactions.Count == 0 && MismatchedAccounts.Count == 0;
}

/// <summary>Recomputes the hash chain, the trial balance and every account's balance from the entries.</summary>
public sealed class LedgerVerifier(CocoonDbContext db)
{
    public async Task<LedgerCheck> VerifyAsync(CancellationToken cancellationToken)
    {
        long count = 0;
        long? broken = null;
        var previous = Array.Empty<byte>();
        long expectedSeq = 1;
        var sums = new Dictionary<Guid, long>();
        var perTransaction = new Dictionary<Guid, long>();
        await foreach (var entry in db.Set<LedgerEntry>().AsNoTracking().OrderBy(e => e.Seq).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            count++;
            if (broken is null && (entry.Seq != expectedSeq || !entry.PrevHash.AsSpan().SequenceEqual(previous) || !entry.Hash.AsSpan().SequenceEqual(Hash(previous, entry))))
            {
                broken = entry.Seq;
            }

            expectedSeq = entry.Seq + 1;
            previous = entry.Hash;
            sums[entry.AccountId] = sums.GetValueOrDefault(entry.AccountId) + entry.Amount;
            perTransaction[entry.TransactionId] = perTransaction.GetValueOrDefault(entry.TransactionId) + entry.Amount;
        }

        var accounts = await db.Set<LedgerAccount>().AsNoTracking().ToListAsync(cancellationToken);
        return new LedgerCheck(
            count,
            broken is null,
            broken,
            accounts.Sum(a => a.Balance),
            [.. perTransaction.Where(t => t.Value != 0).Select(t => t.Key)],
            [.. accounts.Where(a => a.Balance != sums.GetValueOrDefault(a.Id)).Select(a => a.Code)]);
    }

    /// <summary>What the database's trigger computes: SHA-256(prev ‖ UTF-8 "seq|transaction|account|amount").</summary>
    public static byte[] Hash(byte[] previous, LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(entry);
        var fields = Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{entry.Seq}|{entry.TransactionId:D}|{entry.AccountId:D}|{entry.Amount}"));
        return SHA256.HashData([.. previous, .. fields]);
    }
}
