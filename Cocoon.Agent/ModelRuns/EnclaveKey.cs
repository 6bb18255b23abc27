using System.Security.Cryptography;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Sealing;

namespace Cocoon.Agent.ModelRuns;

/// <summary>
/// The P-256 key developers wrap their file keys to. It is made when the agent starts and lives only
/// in this process's memory: it is never written to disk, so grants made to it die with the process.
/// On a machine without TEE hardware its evidence is a development statement signed with the
/// agent's pairing key, which says which agent holds it but not that its operator cannot read it.
/// </summary>
public sealed class EnclaveKey : IDisposable
{
    public EnclaveKey()
    {
        Key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        PublicKey = Hpke.PublicKeyBytes(Key);
    }

    public ECDiffieHellman Key { get; }

    /// <summary>65-byte uncompressed public point.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Development evidence for this key, signed with the agent's credential key.</summary>
    public EnclaveEvidence DevelopmentEvidence(ECDsa credentialKey, Guid agentId, byte[] nonce, DateTimeOffset now) =>
        Shared.Attestation.DevelopmentEvidence.Create(credentialKey, agentId, PublicKey, nonce, now);

    public void Dispose() => Key.Dispose();
}
