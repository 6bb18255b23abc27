using System.Globalization;
using Cocoon.Shared.Ton;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Money.Chain;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Payouts;

/// <summary>Body of POST /api/finance/payout-batches/{id}/transfer: the BoC the treasury wallet returned.</summary>
public sealed record SubmitTransferRequest(string? Boc);

/// <summary>
/// The treasury's side of a batch: transfer requests of at most the wallet's <c>maxMessages</c>, one
/// message per payout item (its provider's wallet, its amount, the comment <c>cocoon payout &lt;item&gt;</c>),
/// and the signed message the wallet returns, checked against the batch before it is kept. Its TEP-467
/// normalized hash is unique, so the same BoC is never taken twice, and an item is carried by at most
/// one pending transfer: the batch row is locked while a transfer is taken, so two signers cannot both
/// take an item.
/// </summary>
public sealed class PayoutTransfers(
    IDbContextFactory<CocoonDbContext> dbFactory,
    ToncenterClient chain,
    IBackgroundJobClient jobs,
    IOptions<PayoutOptions> options,
    IOptions<TonOptions> ton,
    PayoutSettingsService settings,
    TimeProvider clock,
    ILogger<PayoutTransfers> logger)
{
    /// <summary>The comment a payout item's message carries.</summary>
    public static string Comment(Guid itemId) => $"cocoon payout {itemId}";

    /// <summary>The treasury wallet that must sign payouts.</summary>
    public TonAddress? Treasury =>
        TonAddress.TryParse(options.Value.TreasuryAddress ?? ton.Value.DepositAddress, out var address) ? address : null;

    /// <summary>The wallet version of the account when it signs in with the treasury wallet itself (the Development test wallet does); otherwise null.</summary>
    public async Task<string?> TreasuryWalletVersionAsync(Guid accountId, CancellationToken cancellationToken)
    {
        if (Treasury is not { } treasury)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var account = await db.Set<Identity.Account>().AsNoTracking().Where(a => a.Id == accountId).Select(a => new { a.Address, a.WalletVersion }).SingleOrDefaultAsync(cancellationToken);
        return account is not null && TonAddress.TryParse(account.Address, out var address) && address == treasury ? account.WalletVersion : null;
    }

    /// <summary>The TON Connect request for the batch's next unsigned payouts, at most <paramref name="maxMessages"/>.</summary>
    public async Task<PayoutResult<TonConnectRequest>> RequestAsync(Guid batchId, int maxMessages, CancellationToken cancellationToken)
    {
        if (Treasury is not { } treasury)
        {
            return PayoutResult.Fail<TonConnectRequest>(StatusCodes.Status503ServiceUnavailable, "no_treasury", "No treasury wallet is configured (Cocoon:Payouts:TreasuryAddress or Cocoon:Ton:DepositAddress).");
        }

        if (maxMessages is < 1 or > 255)
        {
            return PayoutResult.Fail<TonConnectRequest>(StatusCodes.Status400BadRequest, "bad_max_messages", "maxMessages is the connected wallet's limit: 1 to 255 (4 on wallets v3 and v4, 255 on W5).");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var batch = await db.Set<PayoutBatch>().AsNoTracking().SingleOrDefaultAsync(b => b.Id == batchId, cancellationToken);
        if (batch is null)
        {
            return PayoutResult.Fail<TonConnectRequest>(StatusCodes.Status404NotFound, "no_batch", $"There is no payout batch {batchId}.");
        }

        if (batch.State != PayoutBatchState.Approved)
        {
            return PayoutResult.Fail<TonConnectRequest>(StatusCodes.Status409Conflict, "not_approved", $"Only an approved batch is signed; this one is {batch.State.ToString().ToLowerInvariant()}.");
        }

        var items = await Unsigned(db, batchId).OrderBy(i => i.CreatedAt).Take(maxMessages).ToListAsync(cancellationToken);
        if (items.Count == 0)
        {
            var sending = await db.Set<PayoutItem>().AnyAsync(i => i.BatchId == batchId && i.TransferId != null, cancellationToken);
            return PayoutResult.Fail<TonConnectRequest>(StatusCodes.Status409Conflict, "nothing_to_sign",
                sending ? "Every unpaid item of the batch is in a signed transfer that has not landed or expired yet." : "Every item of the batch is paid.");
        }

        var testnet = ton.Value.Network != "mainnet";
        var validUntil = clock.GetUtcNow() + options.Value.SignWithin;
        return PayoutResult.Done(new TonConnectRequest(
            validUntil.ToUnixTimeSeconds(),
            [.. items.Select(i => TonConnectMessage.WithComment(settings.Friendly(i.Wallet), i.Amount.ToString(CultureInfo.InvariantCulture), Comment(i.Id)))])
        {
            Network = testnet ? "-3" : "-239",
            From = treasury.ToRaw(),
        });
    }

    /// <summary>Takes the treasury's signed message for the batch: every transfer in it must be one of the batch's unsigned payouts, exactly.</summary>
    public async Task<PayoutResult<PayoutTransferView>> SubmitAsync(Guid signer, Guid batchId, string? boc, CancellationToken cancellationToken)
    {
        if (Treasury is not { } treasury)
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status503ServiceUnavailable, "no_treasury", "No treasury wallet is configured.");
        }

        byte[] bytes;
        Cell root;
        WalletExternal message;
        byte[] normalized;
        try
        {
            bytes = Convert.FromBase64String(boc ?? "");
            root = BagOfCells.ParseSingleRoot(bytes);
            normalized = ExternalMessageHash.Normalized(root);
            message = Read(root);
        }
        catch (Exception ex) when (ex is FormatException or TonFormatException)
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status400BadRequest, "bad_boc", $"The BoC is not a wallet's signed external message: {ex.Message}");
        }

        if (!message.Wallet.Equals(treasury))
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status400BadRequest, "not_treasury", $"The message is signed by {message.Wallet.ToRaw()}, not by the treasury wallet {treasury.ToRaw()}.");
        }

        var now = clock.GetUtcNow();
        var validUntil = DateTimeOffset.FromUnixTimeSeconds(message.ValidUntil);
        if (validUntil <= now)
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status400BadRequest, "expired", "The message's valid_until has passed; build a new request and sign it again.");
        }

        // Payouts are freed again only after valid_until: a far one would hold them for good.
        if (validUntil > now + options.Value.SignWithin + TimeSpan.FromMinutes(1))
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status400BadRequest, "valid_until_too_far", $"The message is valid until {validUntil:u}; a payout request is signed within {options.Value.SignWithin.TotalMinutes:N0} minutes.");
        }

        // The fee paid apart (+1) and no value carried over (+64, +128): each provider receives exactly the item's amount.
        if (message.Transfers.FirstOrDefault(t => (t.Mode & 1) == 0 || (t.Mode & (64 | 128)) != 0 || !t.Bounce) is { } odd)
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status400BadRequest, "bad_send_mode",
                $"The transfer to {odd.Destination.ToRaw()} is sent with mode {odd.Mode}{(odd.Bounce ? "" : ", not bounceable")}; payouts pay their fees apart (mode 1 or 3) and are bounceable, so each provider receives exactly the amount.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var batch = await db.Set<PayoutBatch>().FromSql($"SELECT * FROM payout_batches WHERE id = {batchId} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
        if (batch is null)
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status404NotFound, "no_batch", $"There is no payout batch {batchId}.");
        }

        if (batch.State != PayoutBatchState.Approved)
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status409Conflict, "not_approved", $"Only an approved batch is signed; this one is {batch.State.ToString().ToLowerInvariant()}.");
        }

        if (await db.Set<PayoutTransfer>().AnyAsync(t => t.NormalizedHash == normalized, cancellationToken))
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status409Conflict, "already_submitted", "This signed message was submitted before.");
        }

        var inBatch = await db.Set<PayoutItem>().Where(i => i.BatchId == batchId).ToDictionaryAsync(i => i.Id, cancellationToken);
        var carried = new List<PayoutItem>();
        foreach (var transfer in message.Transfers)
        {
            var comment = CellBuilder.ReadComment(transfer.Body);
            var item = comment is not null && comment.StartsWith("cocoon payout ", StringComparison.Ordinal) && Guid.TryParse(comment["cocoon payout ".Length..], out var id)
                ? inBatch.GetValueOrDefault(id) : null;
            if (item is { State: PayoutItemState.Paid } or { TransferId: not null })
            {
                return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status409Conflict, "items_taken",
                    $"Payout {item.Id} is {(item.State == PayoutItemState.Paid ? "paid" : "in a signed transfer that has not landed or expired")} already.");
            }

            if (item is null || carried.Contains(item) || item.Amount != (long)Math.Min(transfer.Value, long.MaxValue) || TonAddress.Parse(item.Wallet) != transfer.Destination)
            {
                return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status400BadRequest, "unexpected_transfer",
                    $"The message sends {transfer.Value} nanotons to {transfer.Destination.ToRaw()} with comment '{comment}', which is not an unsigned payout of this batch (its item, wallet and amount).");
            }

            carried.Add(item);
        }

        if (carried.Count == 0)
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status400BadRequest, "no_transfers", "The message carries no payout.");
        }

        // Locked in id order, like every writer of items; taken by another signer meanwhile → refused.
        var ids = carried.Select(i => i.Id).Order().ToArray();
        var locked = await db.Set<PayoutItem>().FromSql($"SELECT * FROM payout_items WHERE id = ANY({ids}) ORDER BY id FOR UPDATE").ToListAsync(cancellationToken);
        if (locked.Any(i => i.TransferId is not null || i.State != PayoutItemState.Payable || i.BatchId != batchId))
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status409Conflict, "items_taken", "Some of these payouts were signed by someone else meanwhile.");
        }

        var record = new PayoutTransfer
        {
            Id = Guid.CreateVersion7(),
            BatchId = batchId,
            NormalizedHash = normalized,
            Boc = bytes,
            ValidUntil = validUntil,
            State = PayoutTransferState.Pending,
            SubmittedBy = signer,
            CreatedAt = now,
        };
        db.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var item in locked)
        {
            item.TransferId = record.Id;
        }

        var total = locked.Sum(i => i.Amount);
        PayoutAudits.Record(db, now, signer, "transfer-signed", $"{locked.Count} payouts, {Ledger.Ton.Format(total)} TON, message {Convert.ToHexStringLower(normalized)}, valid until {validUntil:u}.", batchId, totalAfter: total);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.GetBaseException() is Npgsql.PostgresException { SqlState: "23505" })
        {
            return PayoutResult.Fail<PayoutTransferView>(StatusCodes.Status409Conflict, "already_submitted", "This signed message was submitted before.");
        }

        // The wallet broadcasts what it signs; sending it again is harmless (the chain takes a seqno once) and covers a wallet that did not.
        try
        {
            await chain.SendBocAsync(bytes, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("Could not hand payout transfer {TransferId} to the chain: {Message}", record.Id, ex.Message);
        }

        jobs.Schedule<PayoutWatcher>(w => w.RunAsync(CancellationToken.None), TimeSpan.FromSeconds(2));
        return PayoutResult.Done(new PayoutTransferView(record.Id, Convert.ToHexStringLower(normalized), record.State.ToString(), record.ValidUntil, record.CreatedAt, null, null, locked.Count));
    }

    /// <summary>The seqno a stored payout message was signed with.</summary>
    internal static uint SignedSeqno(byte[] boc) => Read(BagOfCells.ParseSingleRoot(boc)).Seqno;

    private static IQueryable<PayoutItem> Unsigned(CocoonDbContext db, Guid batchId) =>
        db.Set<PayoutItem>().Where(i => i.BatchId == batchId && i.State == PayoutItemState.Payable && i.TransferId == null);

    /// <summary>Reads the wallet's message as W5, or else as v4r2 (a state init, when present, says which).</summary>
    private static WalletExternal Read(Cell root)
    {
        try
        {
            return WalletExternal.Parse(root, (_, init) => init is null ? WalletVersion.V5R1 : WalletContracts.ReadPublicKey(init).Version);
        }
        catch (TonFormatException)
        {
            return WalletExternal.Parse(root, (_, init) => init is null ? WalletVersion.V4R2 : WalletContracts.ReadPublicKey(init).Version);
        }
    }
}
