using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.Payouts;

/// <summary>Cocoon:Payouts: when earnings become payable, and how long a signed payout may take to land.</summary>
public sealed class PayoutOptions
{
    public const string Section = "Cocoon:Payouts";

    /// <summary>A provider's threshold until they set one (10 TON, as Telegram's Cocoon pays workers).</summary>
    [Range(Ledger.Ton.Nano, long.MaxValue)]
    public long DefaultThreshold { get; set; } = 10 * Ledger.Ton.Nano;

    /// <summary>No payout goes to a newly set payout wallet for this long.</summary>
    public TimeSpan WalletCoolingOff { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How long a treasury signer has to sign a transfer request (its validUntil).</summary>
    public TimeSpan SignWithin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A transfer not seen on chain this long after its validUntil has expired: it can no longer land.</summary>
    public TimeSpan ExpiryMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The treasury wallet that signs payouts (raw or friendly); the deposit address when unset.</summary>
    public string? TreasuryAddress { get; set; }
}

/// <summary>The outcome of a payout action, with the message for the person who asked.</summary>
public sealed record PayoutResult<T>(T? Value, int Status, string? Problem, string? Code = null)
{
    public bool Ok => Problem is null;
}

/// <summary>Makes <see cref="PayoutResult{T}"/>s.</summary>
public static class PayoutResult
{
    public static PayoutResult<T> Done<T>(T value) => new(value, StatusCodes.Status200OK, null);

    public static PayoutResult<T> Fail<T>(int status, string code, string problem) => new(default, status, problem, code);
}
