namespace Cocoon.Web.Features.Ledger;

/// <summary>What a ledger account holds.</summary>
public enum LedgerAccountKind
{
    /// <summary>A developer's money they may spend.</summary>
    DeveloperAvailable,

    /// <summary>A developer's money held for running jobs' budgets.</summary>
    DeveloperHeld,

    /// <summary>What a provider has earned and not yet been paid.</summary>
    ProviderEarned,

    /// <summary>A provider's earnings moved to payment (issue 16's payouts).</summary>
    ProviderPayable,

    /// <summary>The platform's fees.</summary>
    PlatformFees,

    /// <summary>The TON the platform holds on chain (its counterpart to every deposit and payout).</summary>
    PlatformTreasury,

    /// <summary>Deposits seen on chain, not yet credited.</summary>
    PlatformDepositsInTransit,

    /// <summary>Deposits whose comment names no account, awaiting finance.</summary>
    PlatformUnattributed,
}

/// <summary>
/// An account of the double-entry ledger. Its balance is the sum of its entries, kept by the database
/// in the same transaction as each entry (under the row's lock) and checked against them by
/// <see cref="LedgerVerifier"/>; the database refuses a negative balance unless the account is the
/// platform's (its treasury is the negative mirror of what it owes).
/// </summary>
public sealed class LedgerAccount
{
    public Guid Id { get; set; }

    /// <summary>"developer:{account}:available", "platform:fees", …</summary>
    public required string Code { get; set; }

    public LedgerAccountKind Kind { get; set; }

    /// <summary>The Cocoon account it belongs to; null for the platform's.</summary>
    public Guid? OwnerAccountId { get; set; }

    public bool MayGoNegative { get; set; }

    /// <summary>Nanotons; written only by the database's entry trigger.</summary>
    public long Balance { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One movement: its entries sum to zero (the database checks at commit). Unique by kind and reference, so posting twice posts once.</summary>
public sealed class LedgerTransaction
{
    public Guid Id { get; set; }

    /// <summary>hold, settle, release, deposit, …</summary>
    public required string Kind { get; set; }

    /// <summary>What it is about, unique within its kind ("job:{id}", "unit:{id}", a chain transaction's hash).</summary>
    public required string Reference { get; set; }

    /// <summary>For people: what happened.</summary>
    public required string Memo { get; set; }

    public Guid? JobId { get; set; }

    /// <summary>Settlements: the agent that ran the unit (for its owner's earnings per agent).</summary>
    public Guid? AgentId { get; set; }

    /// <summary>Deposits: the account the transfer was for (also when it is held for review).</summary>
    public Guid? OwnerAccountId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// One leg of a transaction: a signed amount on one account. Append-only (the database refuses UPDATE,
/// DELETE and TRUNCATE); numbered in one global order and chained: each carries the hash of the one
/// before, so an entry altered or removed behind the database's back breaks the chain.
/// </summary>
public sealed class LedgerEntry
{
    /// <summary>Global order, assigned by the database under the ledger's lock.</summary>
    public long Seq { get; set; }

    public Guid TransactionId { get; set; }

    public Guid AccountId { get; set; }

    /// <summary>Nanotons, never zero: positive adds to the account's balance.</summary>
    public long Amount { get; set; }

    public required byte[] PrevHash { get; set; }

    /// <summary>SHA-256(prev hash ‖ UTF-8 "seq|transaction|account|amount").</summary>
    public required byte[] Hash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Money the caller asked to move that is not there; the message names the shortfall.</summary>
public sealed class InsufficientFundsException(string message, long shortfall) : Exception(message)
{
    public long Shortfall { get; } = shortfall;

    /// <summary>402 problem details naming the shortfall (nanotons, a string).</summary>
    public Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult AsProblem() =>
        Microsoft.AspNetCore.Http.TypedResults.Problem($"Your available balance cannot hold this budget: {Message} Top up, or ask for less.",
            statusCode: Microsoft.AspNetCore.Http.StatusCodes.Status402PaymentRequired, title: "Insufficient balance",
            extensions: new Dictionary<string, object?> { ["shortfall"] = Shortfall.ToString(System.Globalization.CultureInfo.InvariantCulture) });
}
