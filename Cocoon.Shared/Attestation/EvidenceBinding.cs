using System.Security.Cryptography;
using System.Text;

namespace Cocoon.Shared.Attestation;

/// <summary>
/// What enclave evidence commits to: the enclave key, the agent it speaks for and a nonce the portal
/// drew for this connection (<c>IAgentHub.ChallengeAsync</c>). Evidence made for another agent, another
/// key or an earlier connection binds other bytes and is refused, so a quote or statement copied off
/// the wire is worth nothing to anyone else and nothing later.
/// </summary>
public static class EvidenceBinding
{
    /// <summary>Bytes in a portal's nonce.</summary>
    public const int NonceLength = 32;

    private static readonly byte[] Domain = Encoding.ASCII.GetBytes("cocoon-enclave-binding/v2\0");

    /// <summary>
    /// The 64 bytes a TD puts in its report data (and a development statement signs):
    /// SHA-512 of the domain tag, the agent id (16 bytes, big-endian), the nonce and the enclave key.
    /// </summary>
    public static byte[] ReportData(Guid agentId, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> enclavePublicKey)
    {
        if (nonce.Length != NonceLength)
        {
            throw new AttestationException($"the portal's nonce must be {NonceLength} bytes, not {nonce.Length}.");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        hash.AppendData(Domain);
        hash.AppendData(agentId.ToByteArray(bigEndian: true));
        hash.AppendData(nonce);
        hash.AppendData(enclavePublicKey);
        return hash.GetHashAndReset();
    }
}
