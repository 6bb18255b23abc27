using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Ledger;

/// <summary>
/// Posting to the double-entry ledger, inside the caller's database transaction (so money moves with
/// the state change it pays for, or not at all). The database does the bookkeeping it must not be
/// trusted to C# for: it numbers and chains each entry, keeps balances, refuses a negative balance on
/// a developer's or provider's account, and at commit refuses a transaction whose entries do not sum
/// to zero.
/// </summary>
public static class Ledger
{
    /// <summary>
    /// The stable code of an account. A developer's held money has one account per job, so the
    /// database's no-negative check holds each job to its own budget.
    /// </summary>
    public static string Code(LedgerAccountKind kind, Guid? owner, Guid? job = null) => kind switch
    {
        LedgerAccountKind.DeveloperAvailable => $"developer:{Owner(owner)}:available",
        LedgerAccountKind.DeveloperHeld => $"developer:{Owner(owner)}:held:{job ?? throw new ArgumentException("Held money belongs to a job.", nameof(job))}",
        LedgerAccountKind.ProviderEarned => $"provider:{Owner(owner)}:earned",
        LedgerAccountKind.ProviderPayable => $"provider:{Owner(owner)}:payable",
        LedgerAccountKind.PlatformFees => "platform:fees",
        LedgerAccountKind.PlatformTreasury => "platform:treasury",
        LedgerAccountKind.PlatformDepositsInTransit => "platform:deposits-in-transit",
        _ => "platform:unattributed-deposits",
    };

    /// <summary>The account's id, creating it on first use (two first uses at once make one).</summary>
    public static async Task<Guid> AccountAsync(CocoonDbContext db, LedgerAccountKind kind, Guid? owner, DateTimeOffset now, CancellationToken cancellationToken, Guid? job = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        var code = Code(kind, owner, job);
        // Read first: an account is created once and used for every posting after (one statement, not two).
        var existing = await db.Set<LedgerAccount>().Where(a => a.Code == code).Select(a => (Guid?)a.Id).SingleOrDefaultAsync(cancellationToken);
        if (existing is { } id)
        {
            return id;
        }

        var platform = code.StartsWith("platform:", StringComparison.Ordinal);
        var kindName = kind.ToString();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO ledger_accounts (id, code, kind, owner_account_id, may_go_negative, balance, created_at)
            VALUES ({Guid.CreateVersion7()}, {code}, {kindName}, {(platform ? null : owner)}, {kind == LedgerAccountKind.PlatformTreasury}, 0, {now})
            ON CONFLICT (code) DO NOTHING
            """, cancellationToken);
        return await db.Set<LedgerAccount>().Where(a => a.Code == code).Select(a => a.Id).SingleAsync(cancellationToken);
    }

    /// <summary>
    /// Posts one transaction: its legs (amount per account; zero legs are dropped) must sum to zero.
    /// Returns false, posting nothing, when a transaction of this kind and reference exists already, or
    /// when every leg is zero.
    /// </summary>
    /// <exception cref="InsufficientFundsException">A developer's or provider's account would go negative; nothing is posted, and the caller's transaction goes on.</exception>
    public static async Task<bool> PostAsync(
        CocoonDbContext db, string kind, string reference, string memo, Guid? jobId, IReadOnlyList<(Guid Account, long Amount)> legs, DateTimeOffset now, CancellationToken cancellationToken,
        Guid? agentId = null, Guid? ownerAccountId = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(legs);
        var moving = legs.Where(l => l.Amount != 0).ToList();
        if (moving.Count == 0)
        {
            return false;
        }

        if (moving.Aggregate(0L, (sum, l) => checked(sum + l.Amount)) != 0)
        {
            throw new InvalidOperationException($"Ledger transaction {kind} {reference} does not balance.");
        }

        var transaction = db.Database.CurrentTransaction ?? throw new InvalidOperationException("Post to the ledger inside a database transaction.");
        const string savepoint = "ledger_post";
        await transaction.CreateSavepointAsync(savepoint, cancellationToken);
        try
        {
            var id = Guid.CreateVersion7();
            var inserted = await db.Database.SqlQuery<Guid>($"""
                INSERT INTO ledger_transactions (id, kind, reference, memo, job_id, agent_id, owner_account_id, created_at)
                VALUES ({id}, {kind}, {reference}, {memo}, {jobId}, {agentId}, {ownerAccountId}, {now})
                ON CONFLICT (kind, reference) DO NOTHING
                RETURNING id AS "Value"
                """).ToListAsync(cancellationToken);
            if (inserted.Count == 0)
            {
                await transaction.ReleaseSavepointAsync(savepoint, cancellationToken);
                return false;
            }

            foreach (var (account, amount) in moving)
            {
                // Seq, prev_hash and hash are the database's: its trigger numbers and chains the entry under the ledger's lock.
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO ledger_entries (seq, transaction_id, account_id, amount, prev_hash, hash, created_at)
                    VALUES (0, {id}, {account}, {amount}, ''::bytea, ''::bytea, {now})
                    """, cancellationToken);
            }

            await transaction.ReleaseSavepointAsync(savepoint, cancellationToken);
            return true;
        }
        catch (Npgsql.PostgresException ex) when (ex.SqlState == Npgsql.PostgresErrorCodes.CheckViolation)
        {
            await transaction.RollbackToSavepointAsync(savepoint, cancellationToken);
            var shortfall = await ShortfallAsync(db, moving, cancellationToken);
            throw new InsufficientFundsException($"The balance is {Ton.Format(shortfall)} TON short of this.", shortfall);
        }
    }

    /// <summary>A balance in nanotons.</summary>
    public static Task<long> BalanceAsync(CocoonDbContext db, LedgerAccountKind kind, Guid? owner, CancellationToken cancellationToken, Guid? job = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        var code = Code(kind, owner, job);
        return db.Set<LedgerAccount>().Where(a => a.Code == code).Select(a => a.Balance).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>The sum of an owner's accounts of one kind (a developer's held money across jobs).</summary>
    public static Task<long> TotalAsync(CocoonDbContext db, LedgerAccountKind kind, Guid owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Set<LedgerAccount>().Where(a => a.Kind == kind && a.OwnerAccountId == owner).SumAsync(a => a.Balance, cancellationToken);
    }

    private static async Task<long> ShortfallAsync(CocoonDbContext db, List<(Guid Account, long Amount)> legs, CancellationToken cancellationToken)
    {
        long worst = 0;
        foreach (var (account, amount) in legs.Where(l => l.Amount < 0))
        {
            var balance = await db.Set<LedgerAccount>().Where(a => a.Id == account && !a.MayGoNegative).Select(a => (long?)a.Balance).SingleOrDefaultAsync(cancellationToken);
            if (balance is { } b && b + amount < 0)
            {
                worst = Math.Max(worst, -(b + amount));
            }
        }

        return worst;
    }

    private static Guid Owner(Guid? owner) => owner ?? throw new ArgumentException("A developer's or provider's account needs its owner.", nameof(owner));
}

/// <summary>TON amounts as people read them: nanotons with 9 decimals.</summary>
public static class Ton
{
    public const long Nano = 1_000_000_000;

    /// <summary>"12.500000000" for 12.5 TON.</summary>
    public static string Format(long nanotons)
    {
        var sign = nanotons < 0 ? "-" : "";
        var magnitude = (ulong)Math.Abs((decimal)nanotons);
        return $"{sign}{magnitude / Nano}.{magnitude % Nano:D9}";
    }

    /// <summary>Reads TON as people type it ("1.5"; at most 9 decimals) into nanotons.</summary>
    public static bool TryParseTon(string? text, out long nanotons)
    {
        nanotons = 0;
        if (!decimal.TryParse(text?.Trim(), System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var ton)
            || ton < 0 || ton > 1_000_000_000m || decimal.Round(ton, 9) != ton)
        {
            return false;
        }

        nanotons = (long)(ton * Nano);
        return true;
    }

    /// <summary>Reads nanotons from the wire (a string of digits).</summary>
    public static bool TryParseNano(string? text, out long nanotons) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out nanotons);
}
