using Cocoon.Web.Data;
using Cocoon.Web.Features.Ledger;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Features.Money.Chain;

/// <summary>What one pass of the watcher did.</summary>
public sealed record WatchResult(int Seen, int Credited, int Unattributed, int Ignored);

/// <summary>
/// Reads the platform's deposit address from the chain and credits each incoming transfer once (its
/// transaction hash is the ledger reference): to the account its comment names, or, with an unknown
/// comment or an amount below the minimum, to unattributed deposits for finance. Aborted transactions,
/// bounced messages and external messages credit nothing. Runs every minute and on demand; two at
/// once credit nothing twice.
/// </summary>
public sealed class DepositWatcher(IDbContextFactory<CocoonDbContext> dbFactory, ToncenterClient toncenter, IOptions<TonOptions> options, TimeProvider clock, ILogger<DepositWatcher> logger)
{
    public const string JobId = "money-deposit-watcher";

    /// <summary>Transactions read per page, and the most pages one pass reads.</summary>
    private const int PageSize = 50;
    private const int MaxPages = 20;

    public async Task<WatchResult> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.DepositsEnabled)
        {
            return new WatchResult(0, 0, 0, 0);
        }

        // Newest first until a page holds nothing new: every transfer since the last pass (the ledger's uniqueness keeps re-reads harmless).
        var fresh = new List<ChainTransfer>();
        for (var page = 0; page < MaxPages; page++)
        {
            var transfers = await toncenter.TransactionsAsync(settings.Deposit, PageSize, page * PageSize, cancellationToken);
            var hashes = transfers.Select(t => t.Hash).ToList();
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var known = await db.Set<LedgerTransaction>().Where(t => t.Kind == "deposit" && hashes.Contains(t.Reference)).Select(t => t.Reference).ToListAsync(cancellationToken);
            fresh.AddRange(transfers.Where(t => !known.Contains(t.Hash)));
            if (transfers.Count < PageSize || known.Count == transfers.Count)
            {
                break;
            }
        }

        int credited = 0, unattributed = 0, ignored = 0;
        foreach (var transfer in fresh.DistinctBy(t => t.Hash).OrderBy(t => t.Lt))
        {
            if (transfer.Aborted || transfer.Bounced || transfer.Source is null || transfer.Value == 0 || transfer.Value > long.MaxValue)
            {
                ignored++;
                continue;
            }

            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var code = DepositCode.Normalize(transfer.Comment);
            var owner = code.StartsWith(DepositCode.Prefix, StringComparison.Ordinal)
                ? await db.Set<DepositCode>().Where(c => c.Code == code).Select(c => (Guid?)c.AccountId).SingleOrDefaultAsync(cancellationToken)
                : null;
            var amount = (long)transfer.Value;
            var now = clock.GetUtcNow();
            bool posted;
            if (owner is { } account && amount >= settings.MinimumDeposit)
            {
                posted = await Deposits.CreditAsync(db, account, amount, transfer.Hash, $"Deposit of {Ton.Format(amount)} TON from {transfer.Source}", now, cancellationToken);
                credited += posted ? 1 : 0;
            }
            else
            {
                var why = owner is null ? $"comment '{Shorten(transfer.Comment)}' names no account" : "below the minimum deposit";
                var treasury = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformTreasury, null, now, cancellationToken);
                var held = await LedgerBook.AccountAsync(db, LedgerAccountKind.PlatformUnattributed, null, now, cancellationToken);
                posted = await LedgerBook.PostAsync(db, "deposit", transfer.Hash, $"Unattributed deposit of {Ton.Format(amount)} TON from {transfer.Source}: {why}", null,
                    [(treasury, -amount), (held, amount)], now, cancellationToken, agentId: null, ownerAccountId: owner);
                unattributed += posted ? 1 : 0;
            }

            await tx.CommitAsync(cancellationToken);
        }

        if (credited + unattributed > 0)
        {
            logger.LogInformation("Deposits: {Credited} credited, {Unattributed} held for finance, {Ignored} ignored", credited, unattributed, ignored);
        }

        return new WatchResult(fresh.Count, credited, unattributed, ignored);
    }

    private static string Shorten(string? comment) => comment is null ? "(none)" : comment.Length > 40 ? comment[..40] + "…" : comment;
}
