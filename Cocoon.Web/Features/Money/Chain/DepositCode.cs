using System.Security.Cryptography;

namespace Cocoon.Web.Features.Money.Chain;

/// <summary>The comment that identifies an account's deposits: one per account, made when it first tops up.</summary>
public sealed class DepositCode
{
    public Guid AccountId { get; set; }

    /// <summary>"cocoon-" and ten lower-case base32 letters and digits.</summary>
    public required string Code { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public const string Prefix = "cocoon-";

    public static string New()
    {
        const string alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        return Prefix + new string([.. RandomNumberGenerator.GetBytes(10).Select(b => alphabet[b % alphabet.Length])]);
    }

    /// <summary>How a comment is compared with codes: trimmed, lower-case.</summary>
    public static string Normalize(string? comment) => (comment ?? "").Trim().ToLowerInvariant();
}
