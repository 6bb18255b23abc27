namespace Cocoon.Web.Features.Identity;

/// <summary>A person in Cocoon: one TON wallet. No passwords; signing in means proving the wallet.</summary>
public sealed class Account
{
    public Guid Id { get; set; }

    /// <summary>The wallet's raw address (workchain:hex), unique.</summary>
    public required string Address { get; set; }

    /// <summary>The user-friendly form shown in the UI (non-bounceable, as wallets show them).</summary>
    public required string FriendlyAddress { get; set; }

    /// <summary>The wallet's Ed25519 public key at the last sign-in (hex).</summary>
    public required string PublicKey { get; set; }

    public required string WalletVersion { get; set; }

    public bool Testnet { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastSignInAt { get; set; }

    /// <summary>
    /// The developer's P-256 public key (65-byte uncompressed point, hex) that outputs are sealed to.
    /// Its private half never leaves the developer's browser.
    /// </summary>
    public string? EncryptionPublicKey { get; set; }

    public List<AccountRole> Roles { get; set; } = [];

    /// <summary>
    /// The account's weight in the fair share of capacity (1 to 100; an admin sets it): accounts with
    /// work pending get free slots in proportion to their weights, whatever their jobs' sizes.
    /// </summary>
    public int ShareWeight { get; set; } = 1;

    /// <summary>The most units the account's jobs may run at once (an admin sets it); null: no limit of its own.</summary>
    public int? MaxConcurrentUnits { get; set; }

    /// <summary>
    /// Carried in every session's cookie and checked on every request; signing out draws a new one, so
    /// each cookie issued before stops working at once, wherever it was copied to.
    /// </summary>
    public string SecurityStamp { get; set; } = NewSecurityStamp();

    public static string NewSecurityStamp() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}
