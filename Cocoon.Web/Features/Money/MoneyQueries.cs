using System.Globalization;
using System.Text;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Microsoft.EntityFrameworkCore;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Features.Money;

/// <summary>A developer's balance: nanotons as strings (and as TON for people).</summary>
public sealed record BalanceView(string Available, string Held, string AvailableTon, string HeldTon);

/// <summary>One line of a statement: a movement on one of the caller's accounts.</summary>
public sealed record StatementLine(long Seq, DateTimeOffset At, string Kind, string Account, string Amount, string AmountTon, string Memo, Guid? JobId);

/// <summary>What a provider has earned: in all, per agent, per day and per job, and what is payable (moved to payment).</summary>
public sealed record EarningsView(string Earned, string EarnedTon, IReadOnlyList<AgentEarnings> PerAgent, IReadOnlyList<DayEarnings> PerDay)
{
    public IReadOnlyList<JobAmount> PerJob { get; init; } = [];

    public string Payable { get; init; } = "0";

    public string PayableTon { get; init; } = "0.000000000";
}

/// <summary>What a developer's jobs cost: per day and per job (settled units' costs and fees).</summary>
public sealed record SpendingView(string Spent, string SpentTon, IReadOnlyList<DayAmount> PerDay, IReadOnlyList<JobAmount> PerJob);

/// <summary>Nanotons moved on one UTC day.</summary>
public sealed record DayAmount(DateOnly Day, string Amount, string AmountTon);

/// <summary>Nanotons moved for one job, over its settled units.</summary>
public sealed record JobAmount(Guid JobId, string Name, int Units, string Amount, string AmountTon);

public sealed record AgentEarnings(Guid AgentId, string Name, int Units, string Earned, string EarnedTon);

public sealed record DayEarnings(DateOnly Day, string Earned, string EarnedTon);

/// <summary>One entry of an account's statement, with the reference that ties it to a deposit, a job, a unit or a payout.</summary>
public sealed record AccountEntry(long Seq, DateTimeOffset At, string Kind, string Reference, string Amount, string AmountTon, string Memo);

/// <summary>One ledger account as finance sees it in the trial balance.</summary>
public sealed record TrialBalanceLine(string Code, string Kind, string Balance, string BalanceTon);

/// <summary>The trial balance: every account and their sum (zero when the books balance).</summary>
public sealed record TrialBalanceView(IReadOnlyList<TrialBalanceLine> Accounts, string Sum);

/// <summary>Reads of the ledger for pages and the API; each gets its own context.</summary>
public sealed class MoneyQueries(IDbContextFactory<CocoonDbContext> dbFactory, IJobNames jobNames)
{
    /// <summary>What the developer's settled units cost, per UTC day and per job.</summary>
    public async Task<SpendingView> SpendingAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var settled = await (from e in db.Set<LedgerEntry>()
                             join t in db.Set<LedgerTransaction>() on e.TransactionId equals t.Id
                             join a in db.Set<LedgerAccount>() on e.AccountId equals a.Id
                             where a.OwnerAccountId == accountId && a.Kind == LedgerAccountKind.DeveloperHeld && t.Kind == "settle"
                             select new Movement(t.JobId, -e.Amount, t.CreatedAt)).ToListAsync(cancellationToken);
        var total = settled.Sum(s => s.Amount);
        return new SpendingView(Nano(total), Ton.Format(total), PerDay(settled), await PerJobAsync(settled, cancellationToken));
    }

    public async Task<BalanceView> BalanceAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var available = await LedgerBook.BalanceAsync(db, LedgerAccountKind.DeveloperAvailable, accountId, cancellationToken);
        var held = await LedgerBook.TotalAsync(db, LedgerAccountKind.DeveloperHeld, accountId, cancellationToken);
        return new BalanceView(Nano(available), Nano(held), Ton.Format(available), Ton.Format(held));
    }

    /// <summary>Every movement on the caller's available and held balances, newest first.</summary>
    public async Task<IReadOnlyList<StatementLine>> StatementAsync(Guid accountId, int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var lines = await (from e in db.Set<LedgerEntry>()
                           join t in db.Set<LedgerTransaction>() on e.TransactionId equals t.Id
                           join a in db.Set<LedgerAccount>() on e.AccountId equals a.Id
                           where a.OwnerAccountId == accountId && (a.Kind == LedgerAccountKind.DeveloperAvailable || a.Kind == LedgerAccountKind.DeveloperHeld)
                           orderby e.Seq descending
                           select new { e.Seq, t.CreatedAt, t.Kind, AccountKind = a.Kind, e.Amount, t.Memo, t.JobId })
            .Take(take).ToListAsync(cancellationToken);
        return [.. lines.Select(l => new StatementLine(l.Seq, l.CreatedAt, l.Kind, l.AccountKind == LedgerAccountKind.DeveloperHeld ? "held" : "available", Nano(l.Amount), Ton.Format(l.Amount), l.Memo, l.JobId))];
    }

    /// <summary>The statement as CSV (RFC 4180), for a spreadsheet.</summary>
    public static string Csv(IEnumerable<StatementLine> lines)
    {
        var csv = new StringBuilder("seq,at,kind,account,amount_nanoton,amount_ton,memo,job\r\n");
        foreach (var l in lines)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{l.Seq},{l.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{l.Kind},{l.Account},{l.Amount},{l.AmountTon},{Quote(l.Memo)},{l.JobId}\r\n");
        }

        return csv.ToString();
    }

    public async Task<EarningsView> EarningsAsync(Guid providerAccountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var code = LedgerBook.Code(LedgerAccountKind.ProviderEarned, providerAccountId);
        var earned = await LedgerBook.BalanceAsync(db, LedgerAccountKind.ProviderEarned, providerAccountId, cancellationToken);
        var settled = await (from e in db.Set<LedgerEntry>()
                             join t in db.Set<LedgerTransaction>() on e.TransactionId equals t.Id
                             join a in db.Set<LedgerAccount>() on e.AccountId equals a.Id
                             where a.Code == code && t.Kind == "settle"
                             select new { t.AgentId, t.JobId, e.Amount, t.CreatedAt }).ToListAsync(cancellationToken);
        var movements = settled.Select(s => new Movement(s.JobId, s.Amount, s.CreatedAt)).ToList();
        var payable = await LedgerBook.BalanceAsync(db, LedgerAccountKind.ProviderPayable, providerAccountId, cancellationToken);
        var agentIds = settled.Where(s => s.AgentId != null).Select(s => s.AgentId!.Value).Distinct().ToList();
        var names = await db.Agents.AsNoTracking().Where(a => agentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
        return new EarningsView(Nano(earned), Ton.Format(earned),
            [.. settled.Where(s => s.AgentId != null).GroupBy(s => s.AgentId!.Value)
                .Select(g => new AgentEarnings(g.Key, names.GetValueOrDefault(g.Key, "(unknown)"), g.Count(), Nano(g.Sum(s => s.Amount)), Ton.Format(g.Sum(s => s.Amount))))
                .OrderByDescending(a => a.Units)],
            [.. PerDay(movements).Select(d => new DayEarnings(d.Day, d.Amount, d.AmountTon))])
        {
            PerJob = await PerJobAsync(movements, cancellationToken),
            Payable = Nano(payable),
            PayableTon = Ton.Format(payable),
        };
    }

    private sealed record Movement(Guid? JobId, long Amount, DateTimeOffset At);

    private static List<DayAmount> PerDay(IEnumerable<Movement> movements) =>
        [.. movements.GroupBy(m => DateOnly.FromDateTime(m.At.UtcDateTime)).OrderBy(g => g.Key)
            .Select(g => new DayAmount(g.Key, Nano(g.Sum(m => m.Amount)), Ton.Format(g.Sum(m => m.Amount))))];

    private async Task<List<JobAmount>> PerJobAsync(IReadOnlyCollection<Movement> movements, CancellationToken cancellationToken)
    {
        var ids = movements.Where(m => m.JobId != null).Select(m => m.JobId!.Value).Distinct().ToList();
        var names = await jobNames.NamesAsync(ids, cancellationToken);
        return [.. movements.Where(m => m.JobId != null).GroupBy(m => m.JobId!.Value)
            .Select(g => new JobAmount(g.Key, names.GetValueOrDefault(g.Key, "(deleted)"), g.Count(), Nano(g.Sum(m => m.Amount)), Ton.Format(g.Sum(m => m.Amount))))
            .OrderByDescending(j => long.Parse(j.Amount, CultureInfo.InvariantCulture))];
    }

    /// <summary>An account's entries (any account, by code), newest first, with each transaction's reference: finance's account statement.</summary>
    public async Task<IReadOnlyList<AccountEntry>?> AccountEntriesAsync(string code, int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var account = await db.Set<LedgerAccount>().AsNoTracking().SingleOrDefaultAsync(a => a.Code == code, cancellationToken);
        if (account is null)
        {
            return null;
        }

        var rows = await (from e in db.Set<LedgerEntry>()
                          join t in db.Set<LedgerTransaction>() on e.TransactionId equals t.Id
                          where e.AccountId == account.Id
                          orderby e.Seq descending
                          select new { e.Seq, e.CreatedAt, t.Kind, t.Reference, e.Amount, t.Memo })
            .Take(take).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new AccountEntry(r.Seq, r.CreatedAt, r.Kind, r.Reference, Nano(r.Amount), Ton.Format(r.Amount), r.Memo))];
    }

    public async Task<TrialBalanceView> TrialBalanceAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var accounts = await db.Set<LedgerAccount>().AsNoTracking().OrderBy(a => a.Code).ToListAsync(cancellationToken);
        return new TrialBalanceView([.. accounts.Select(a => new TrialBalanceLine(a.Code, a.Kind.ToString(), Nano(a.Balance), Ton.Format(a.Balance)))], Nano(accounts.Sum(a => a.Balance)));
    }

    public async Task<LedgerCheck> VerifyAsync(CancellationToken cancellationToken)
    {
        // One snapshot for entries and balances, so postings meanwhile cannot look like a mismatch.
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var snapshot = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await db.Database.ExecuteSqlRawAsync("SET TRANSACTION READ ONLY", cancellationToken);
        return await new LedgerVerifier(db).VerifyAsync(cancellationToken);
    }

    private static string Nano(long amount) => amount.ToString(CultureInfo.InvariantCulture);

    /// <summary>A CSV field: quoted when it must be, and never read as a formula (memos carry names agents choose).</summary>
    public static string Quote(string text)
    {
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }

        return text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
    }
}
