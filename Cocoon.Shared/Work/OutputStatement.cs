using System.Security.Cryptography;
using System.Text;

namespace Cocoon.Shared.Work;

/// <summary>
/// What an agent signs about a model unit it ran: "under this lease, the plaintext output had this
/// digest". The portal never sees the plaintext, so it checks a unit run on several agents by
/// comparing these digests; the signature (the agent's pairing key, P-256, IEEE P1363) makes each
/// agent's word its own, so a dispute's evidence cannot be denied by the agent or made up by the portal.
/// The digest is an HMAC-SHA256 keyed by a key derived from the job's dataset file key (which only the
/// developer and the agents granted it hold): equal outputs give equal digests, but the portal cannot
/// confirm a guess of an output by hashing it.
/// </summary>
public static class OutputStatement
{
    private const string Label = "cocoon-output-digest/v1";

    /// <summary>The signed bytes: the label, the lease and the lower-case hex digest, one per line.</summary>
    public static byte[] Bytes(Guid leaseId, string plainDigest)
    {
        ArgumentNullException.ThrowIfNull(plainDigest);
        return Encoding.ASCII.GetBytes($"{Label}\n{leaseId:D}\n{plainDigest.ToLowerInvariant()}");
    }

    /// <summary>The digest key of a job: HKDF-SHA256 of its dataset's file key.</summary>
    public static byte[] DigestKey(ReadOnlySpan<byte> datasetFileKey) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, datasetFileKey.ToArray(), 32, [], Encoding.ASCII.GetBytes("cocoon output digest v1"));

    /// <summary>HMAC-SHA256 of the plaintext output under the job's digest key, lower-case hex.</summary>
    public static string Digest(ReadOnlySpan<byte> digestKey, ReadOnlySpan<byte> plaintext) => Convert.ToHexStringLower(HMACSHA256.HashData(digestKey, plaintext));

    /// <summary>Signs the statement with the agent's pairing key.</summary>
    public static byte[] Sign(ECDsa key, Guid leaseId, string plainDigest)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.SignData(Bytes(leaseId, plainDigest), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Signs the statement and gives the signature as lower-case hex, as a result carries it.</summary>
    public static string SignHex(ECDsa key, Guid leaseId, string plainDigest) => Convert.ToHexStringLower(Sign(key, leaseId, plainDigest));

    /// <summary>The signature a result carries (hex), or null when it is not 64 bytes of hex.</summary>
    public static byte[]? ParseSignature(string? hex) =>
        hex is { Length: 128 } && hex.All(Uri.IsHexDigit) ? Convert.FromHexString(hex) : null;

    /// <summary>Whether <paramref name="signature"/> is the agent's over this lease and digest (a malformed digest or signature is not).</summary>
    public static bool Verify(ECDsa key, Guid leaseId, string? plainDigest, byte[]? signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        return plainDigest is { Length: 64 } && plainDigest.All(Uri.IsHexDigit) && signature is { Length: 64 }
            && key.VerifyData(Bytes(leaseId, plainDigest), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
