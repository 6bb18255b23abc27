namespace Cocoon.Shared.Agents;

/// <summary>The portal's nonce for this connection: the evidence presented at registration must bind it.</summary>
public sealed record AttestationChallenge
{
    /// <summary><see cref="Attestation.EvidenceBinding.NonceLength"/> random bytes, good for this connection once.</summary>
    public required byte[] Nonce { get; init; }
}
