using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.Identity;

/// <summary>Wallet sign-in and sessions (section "Cocoon:Identity").</summary>
public sealed class WalletSignInOptions
{
    public const string Section = "Cocoon:Identity";

    /// <summary>The wallet (raw or user-friendly address) that becomes the first admin when it signs in.</summary>
    public string? AdminWallet { get; set; }

    /// <summary>Offers the in-browser test wallet on the sign-in page. Honoured in Development only.</summary>
    public bool TestWallet { get; set; }

    [Range(1, 60, ErrorMessage = "Cocoon:Identity:PayloadMinutes must be between 1 and 60.")]
    public int PayloadMinutes { get; set; } = 15;

    /// <summary>How old a proof's timestamp may be.</summary>
    [Range(1, 60, ErrorMessage = "Cocoon:Identity:ProofMaxAgeMinutes must be between 1 and 60.")]
    public int ProofMaxAgeMinutes { get; set; } = 15;

    /// <summary>Sign-in requests (payloads and proofs) one client address may make per minute.</summary>
    [Range(1, 100_000, ErrorMessage = "Cocoon:Identity:SignInRequestsPerMinute must be between 1 and 100000.")]
    public int SignInRequestsPerMinute { get; set; } = 60;

    [Range(1, 1440, ErrorMessage = "Cocoon:Identity:IdleMinutes must be between 1 and 1440.")]
    public int IdleMinutes { get; set; } = 30;

    [Range(1, 168, ErrorMessage = "Cocoon:Identity:AbsoluteHours must be between 1 and 168.")]
    public int AbsoluteHours { get; set; } = 12;
}
