namespace Cocoon.Web.Features.Assets;

/// <summary>The developer's P-256 public key as 130 hex digits.</summary>
public sealed record EncryptionKeyRequest(string? PublicKey);
