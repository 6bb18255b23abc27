namespace Cocoon.Shared.Attestation;

/// <summary>
/// An agent's enclave public key and the evidence binding it: sent in the handshake, checked by the
/// portal, and shown to developers who choose which agents may receive their keys.
/// </summary>
public sealed record EnclaveEvidence
{
    /// <summary>What kind of evidence <see cref="Statement"/> and <see cref="Signature"/> are.</summary>
    public required EvidenceKind Kind { get; init; }

    /// <summary>The enclave's P-256 public key, 65 bytes uncompressed; key grants are wrapped to it.</summary>
    public required byte[] PublicKey { get; init; }

    /// <summary>Development: the signed statement (UTF-8 JSON). TDX: the quote.</summary>
    public required byte[] Statement { get; init; }

    /// <summary>Development: ECDSA P-256 / SHA-256 signature (r ‖ s) over <see cref="Statement"/>. TDX: empty (the quote signs itself).</summary>
    public required byte[] Signature { get; init; }
}
