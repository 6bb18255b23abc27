namespace Cocoon.Web.Features.Payouts;

/// <summary>Where a provider is paid, and from how much on.</summary>
public sealed class PayoutSettings
{
    public Guid AccountId { get; set; }

    /// <summary>The payout wallet, raw ("0:hex"); the sign-in wallet until the provider proves another.</summary>
    public required string Wallet { get; set; }

    /// <summary>Earnings at or above this many nanotons become a payout item.</summary>
    public long Threshold { get; set; }

    /// <summary>When the payout wallet last changed (null: never, it is the sign-in wallet).</summary>
    public DateTimeOffset? WalletChangedAt { get; set; }

    /// <summary>No payout is made to the account before this (the cooling-off after a wallet change).</summary>
    public DateTimeOffset? HoldUntil { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public enum PayoutItemState
{
    /// <summary>Moved from earned to payable; waiting for a batch, its approval and a signed transfer.</summary>
    Payable,

    /// <summary>A confirmed chain transaction paid it (payable → treasury).</summary>
    Paid,

    /// <summary>Paid, but the provider's wallet bounced it: the amount went back to their earnings, to go out in a new item.</summary>
    Bounced,
}

/// <summary>One provider's earnings on their way to their wallet, in one amount.</summary>
public sealed class PayoutItem
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    /// <summary>The payout wallet when the item was made (raw); the transfer must go there.</summary>
    public required string Wallet { get; set; }

    public long Amount { get; set; }

    public PayoutItemState State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The batch it is in (null: free to batch).</summary>
    public Guid? BatchId { get; set; }

    /// <summary>The signed transfer now carrying it, until that transfer is confirmed, fails or expires: never two at once.</summary>
    public Guid? TransferId { get; set; }

    /// <summary>The one transfer that paid it.</summary>
    public Guid? PaidTransferId { get; set; }

    /// <summary>The treasury's chain transaction that paid it (hex).</summary>
    public string? PaidTxHash { get; set; }

    /// <summary>The hash of the message that carried it to the provider (hex), to look for a bounce.</summary>
    public string? OutMessageHash { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    /// <summary>The provider's wallet accepted the payout (its transaction was seen and not bounced).</summary>
    public bool Delivered { get; set; }

    /// <summary>What happened to it that the provider should know (a bounce).</summary>
    public string? Note { get; set; }
}

public enum PayoutBatchState
{
    /// <summary>Made by one Finance user; waiting for another's decision.</summary>
    Proposed,

    /// <summary>Approved by a second Finance user: the treasury may sign it.</summary>
    Approved,

    /// <summary>Rejected by a second Finance user; its items are free again.</summary>
    Rejected,

    /// <summary>Every item was paid.</summary>
    Paid,
}

/// <summary>Payout items one Finance user (the maker) proposes and another (the checker) approves.</summary>
public sealed class PayoutBatch
{
    public Guid Id { get; set; }

    public PayoutBatchState State { get; set; }

    public Guid CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public Guid? DecidedBy { get; set; }

    public DateTimeOffset? DecidedAt { get; set; }

    public string? DecisionNote { get; set; }

    /// <summary>Nanotons in the batch when it was made.</summary>
    public long Total { get; set; }

    public int ItemCount { get; set; }
}

public enum PayoutTransferState
{
    /// <summary>Signed and sent; not seen on chain yet.</summary>
    Pending,

    /// <summary>Its transaction ran and sent every payout it carries.</summary>
    Confirmed,

    /// <summary>Its transaction was seen but did not run through (aborted, or not every payout went out).</summary>
    Failed,

    /// <summary>Not seen by its valid-until time and a margin: it can no longer land, and its items may be signed again.</summary>
    Expired,
}

/// <summary>A treasury-signed external message carrying some of a batch's payouts.</summary>
public sealed class PayoutTransfer
{
    public Guid Id { get; set; }

    public Guid BatchId { get; set; }

    /// <summary>TEP-467 normalized hash of the external message: how it is found on chain, and unique (a replayed BoC is refused).</summary>
    public required byte[] NormalizedHash { get; set; }

    public required byte[] Boc { get; set; }

    public DateTimeOffset ValidUntil { get; set; }

    public PayoutTransferState State { get; set; }

    public Guid SubmittedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The treasury's transaction that ran it (hex).</summary>
    public string? ChainTxHash { get; set; }

    public DateTimeOffset? SettledAt { get; set; }

    public string? Failure { get; set; }
}

/// <summary>One action on payouts, kept for good (the database refuses changes): who, when, what, and the batch's totals around it.</summary>
public sealed class PayoutAudit
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The person, or null for the portal's own jobs.</summary>
    public Guid? ActorId { get; set; }

    public required string Action { get; set; }

    public Guid? BatchId { get; set; }

    public Guid? ItemId { get; set; }

    public required string Detail { get; set; }

    public long? TotalBefore { get; set; }

    public long? TotalAfter { get; set; }
}
