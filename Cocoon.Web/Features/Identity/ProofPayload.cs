namespace Cocoon.Web.Features.Identity;

/// <summary>A nonce the portal issued for a wallet to sign; usable once, before it expires.</summary>
public sealed class ProofPayload
{
    /// <summary>64 lowercase hex digits.</summary>
    public required string Payload { get; set; }

    public DateTimeOffset IssuedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
}
