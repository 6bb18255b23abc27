using System.Globalization;
using System.Text;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Payouts;

/// <summary>One ledger entry with its transaction, for statements and exports; amounts in nanotons as strings.</summary>
public sealed record EntryLine(long Seq, DateTimeOffset At, string Kind, string Reference, string Account, string Amount, string Memo, string Hash);

/// <summary>A provider's statement: every movement on their earned and payable balances, and where they stand.</summary>
public sealed record ProviderStatement(Guid AccountId, string Earned, string Payable, string PaidOut, IReadOnlyList<EntryLine> Lines);

/// <summary>
/// Finance's exports and the provider's statement, read straight from the ledger, so a reviewer can follow
/// any nanoton from a deposit through holds, charges and fees to a payout's chain transaction.
/// </summary>
public sealed class Statements(IDbContextFactory<CocoonDbContext> dbFactory)
{
    private const int MaxLines = 100_000;

    /// <summary>Every movement on the provider's earned and payable accounts, oldest first.</summary>
    public async Task<ProviderStatement> ProviderAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var lines = await Lines(db, a => a.OwnerAccountId == accountId && (a.Kind == LedgerAccountKind.ProviderEarned || a.Kind == LedgerAccountKind.ProviderPayable), null, null)
            .ToListAsync(cancellationToken);
        var earned = await Ledger.Ledger.BalanceAsync(db, LedgerAccountKind.ProviderEarned, accountId, cancellationToken);
        var payable = await Ledger.Ledger.BalanceAsync(db, LedgerAccountKind.ProviderPayable, accountId, cancellationToken);
        var paid = await db.Set<PayoutItem>().Where(i => i.AccountId == accountId && i.State == PayoutItemState.Paid).SumAsync(i => i.Amount, cancellationToken);
        return new ProviderStatement(accountId, Nano(earned), Nano(payable), Nano(paid), [.. lines.Select(ToLine)]);
    }

    /// <summary>Ledger entries in [from, to), oldest first; only transactions of <paramref name="kind"/> when given.</summary>
    public async Task<IReadOnlyList<EntryLine>> EntriesAsync(DateTimeOffset? from, DateTimeOffset? to, string? kind, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return [.. (await Lines(db, _ => true, from, to, kind).Take(MaxLines).ToListAsync(cancellationToken)).Select(ToLine)];
    }

    /// <summary>Payout items paid in [from, to), oldest first.</summary>
    public async Task<IReadOnlyList<PayoutItem>> PaidAsync(DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<PayoutItem>().AsNoTracking()
            .Where(i => i.State == PayoutItemState.Paid && (from == null || i.PaidAt >= from) && (to == null || i.PaidAt < to))
            .OrderBy(i => i.PaidAt).Take(MaxLines).ToListAsync(cancellationToken);
    }

    public static string Csv(IEnumerable<EntryLine> lines)
    {
        var csv = new StringBuilder("seq,at,kind,reference,account,amount_nanoton,memo,entry_hash\r\n");
        foreach (var l in lines)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{l.Seq},{l.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{l.Kind},{Money.MoneyQueries.Quote(l.Reference)},{l.Account},{l.Amount},{Money.MoneyQueries.Quote(l.Memo)},{l.Hash}\r\n");
        }

        return csv.ToString();
    }

    public static string Csv(IEnumerable<PayoutItem> items)
    {
        var csv = new StringBuilder("item,account,wallet,amount_nanoton,paid_at,transfer,chain_tx,delivered\r\n");
        foreach (var i in items)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i.Id},{i.AccountId},{i.Wallet},{i.Amount},{i.PaidAt?.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{i.PaidTransferId},{i.PaidTxHash},{(i.Delivered ? "yes" : "not yet")}\r\n");
        }

        return csv.ToString();
    }

    private sealed record Row(long Seq, DateTimeOffset At, string Kind, string Reference, string Code, long Amount, string Memo, byte[] Hash);

    private static IQueryable<Row> Lines(CocoonDbContext db, System.Linq.Expressions.Expression<Func<LedgerAccount, bool>> accounts, DateTimeOffset? since, DateTimeOffset? until, string? kind = null) =>
        from e in db.Set<LedgerEntry>()
        join t in db.Set<LedgerTransaction>() on e.TransactionId equals t.Id
        join a in db.Set<LedgerAccount>().Where(accounts) on e.AccountId equals a.Id
        where (since == null || e.CreatedAt >= since) && (until == null || e.CreatedAt < until) && (kind == null || t.Kind == kind)
        orderby e.Seq
        select new Row(e.Seq, e.CreatedAt, t.Kind, t.Reference, a.Code, e.Amount, t.Memo, e.Hash);

    private static EntryLine ToLine(Row r) => new(r.Seq, r.At, r.Kind, r.Reference, r.Code, Nano(r.Amount), r.Memo, Convert.ToHexStringLower(r.Hash));

    private static string Nano(long value) => value.ToString(CultureInfo.InvariantCulture);
}
