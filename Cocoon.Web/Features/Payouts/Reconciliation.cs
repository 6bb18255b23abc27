using System.Text.Json;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money.Chain;
using Microsoft.EntityFrameworkCore;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Features.Payouts;

/// <summary>One reconciliation of the ledger's treasury with the chain, kept for finance.</summary>
public sealed class ReconciliationRun
{
    public Guid Id { get; set; }

    public DateTimeOffset RunAt { get; set; }

    /// <summary>Who asked (null: the daily job).</summary>
    public Guid? ActorId { get; set; }

    /// <summary>The treasury wallet's balance on chain (nanotons).</summary>
    public long ChainBalance { get; set; }

    /// <summary>What the ledger says the treasury holds for others: deposits in, less payouts out (the treasury account's balance, negated).</summary>
    public long LedgerBalance { get; set; }

    /// <summary>Chain minus ledger.</summary>
    public long Difference { get; set; }

    /// <summary>The newest treasury transaction read (the next run reads from there).</summary>
    public long LastLt { get; set; }

    /// <summary>Treasury transactions read since the last run, each with what explains it (JSON array of <see cref="ReconciliationLine"/>).</summary>
    public required string Lines { get; set; }

    public int Unexplained { get; set; }
}

/// <summary>A treasury transaction and what on the ledger explains it (null: nothing does).</summary>
public sealed record ReconciliationLine(string TxHash, long Lt, string Direction, long Amount, string? ExplainedBy, string Note);

/// <summary>A reconciliation as finance reads it; amounts in nanotons as strings.</summary>
public sealed record ReconciliationView(Guid Id, DateTimeOffset RunAt, string ChainBalance, string LedgerBalance, string Difference, string DifferenceTon, int Unexplained, IReadOnlyList<ReconciliationLine> Lines);

/// <summary>
/// Compares the ledger's treasury with the chain (daily, and when finance asks): the treasury wallet's
/// balance against what the ledger says it holds, and each treasury transaction since the last run
/// against what explains it: a credited or held deposit (by transaction hash), a confirmed payout
/// transfer, a bounced payout, or a transfer the deposit watcher skips by design (aborted or bounced).
/// Whatever nothing explains is listed, with its transaction, for finance to look into.
/// </summary>
public sealed class Reconciliation(IDbContextFactory<CocoonDbContext> dbFactory, ToncenterClient chain, PayoutTransfers transfers, TimeProvider clock, ILogger<Reconciliation> logger)
{
    public const string JobId = "treasury-reconciliation";
    private const int MaxTransactions = 2000;

    public async Task<ReconciliationView?> RunAsync(Guid? actor, CancellationToken cancellationToken)
    {
        if (transfers.Treasury is not { } treasury)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var since = await db.Set<ReconciliationRun>().OrderByDescending(r => r.RunAt).Select(r => (long?)r.LastLt).FirstOrDefaultAsync(cancellationToken) ?? 0;
        var balance = await chain.BalanceAsync(treasury, cancellationToken);
        var read = new List<Money.Chain.ChainTransaction>();
        var complete = false;
        for (var offset = 0; offset < MaxTransactions; offset += 100)
        {
            var page = await chain.AccountTransactionsAsync(treasury, 100, offset, cancellationToken);
            read.AddRange(page.Where(t => (long)t.Lt > since));
            if (page.Count < 100 || page.Any(t => (long)t.Lt <= since))
            {
                complete = true;
                break;
            }
        }

        var hashes = read.Select(t => t.Hash).ToList();
        var deposits = (await db.Set<LedgerTransaction>().Where(t => t.Kind == "deposit" && hashes.Contains(t.Reference)).Select(t => t.Reference).ToListAsync(cancellationToken)).ToHashSet();
        var payouts = (await db.Set<PayoutTransfer>().Where(t => t.ChainTxHash != null && hashes.Contains(t.ChainTxHash)).Select(t => new { t.ChainTxHash, t.State }).ToListAsync(cancellationToken))
            .ToDictionary(t => t.ChainTxHash!, t => t.State);
        var treasuryRaw = treasury.ToRaw();
        var lines = read.OrderBy(t => t.Lt).Select(t =>
        {
            var outgoing = t.In is { Source: null };
            var amount = outgoing ? -t.Out.Sum(m => (long)m.Value) : (long)(t.In?.Value ?? 0);
            string? explained = outgoing
                ? payouts.TryGetValue(t.Hash, out var state) ? $"payout transfer ({state.ToString().ToLowerInvariant()})" : null
                : deposits.Contains(t.Hash) ? "deposit"
                : t.In is { Bounced: true } ? "bounced payout (returned to payable)"
                : t.Aborted || t.In is { Bounce: true } && !t.Succeeded ? "skipped by design (aborted)"
                : null;
            var note = outgoing ? $"{t.Out.Count} message(s) out" : $"from {t.In?.Source ?? "?"}{(t.In?.Comment is { } c ? $", comment '{c}'" : "")}";
            return new ReconciliationLine(t.Hash, (long)t.Lt, outgoing ? "out" : "in", amount, explained, note);
        }).ToList();

        if (!complete)
        {
            lines.Insert(0, new ReconciliationLine("", since, "in/out", 0, null, $"More than {MaxTransactions} treasury transactions since the last run: the older ones were not read, and are not checked."));
        }

        var now = clock.GetUtcNow();
        var ledger = -await LedgerBook.BalanceAsync(db, LedgerAccountKind.PlatformTreasury, null, cancellationToken);
        var run = new ReconciliationRun
        {
            Id = Guid.CreateVersion7(),
            RunAt = now,
            ActorId = actor,
            ChainBalance = balance,
            LedgerBalance = ledger,
            Difference = balance - ledger,
            LastLt = read.Count == 0 ? since : read.Max(t => (long)t.Lt),
            Lines = JsonSerializer.Serialize(lines),
            Unexplained = lines.Count(l => l.ExplainedBy is null),
        };
        db.Add(run);
        PayoutAudits.Record(db, now, actor, "reconciled", $"Chain {Ledger.Ton.Format(balance)} TON, ledger {Ledger.Ton.Format(ledger)} TON, difference {Ledger.Ton.Format(run.Difference)} TON; {lines.Count} new treasury transaction(s), {run.Unexplained} unexplained.");
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Treasury reconciled: difference {Difference} nanotons, {Unexplained} unexplained transaction(s)", run.Difference, run.Unexplained);
        return View(run);
    }

    /// <summary>The latest runs, newest first.</summary>
    public async Task<IReadOnlyList<ReconciliationView>> ListAsync(int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var runs = await db.Set<ReconciliationRun>().AsNoTracking().OrderByDescending(r => r.RunAt).Take(take).ToListAsync(cancellationToken);
        return [.. runs.Select(View)];
    }

    /// <summary>The daily run (Hangfire).</summary>
    public Task DailyAsync(CancellationToken cancellationToken) => RunAsync(null, cancellationToken);

    private static ReconciliationView View(ReconciliationRun r) =>
        new(r.Id, r.RunAt, Nano(r.ChainBalance), Nano(r.LedgerBalance), Nano(r.Difference), Ledger.Ton.Format(r.Difference), r.Unexplained,
            JsonSerializer.Deserialize<List<ReconciliationLine>>(r.Lines) ?? []);

    private static string Nano(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
