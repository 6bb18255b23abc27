using System.Security.Cryptography;

namespace Cocoon.Shared.Sealing;

/// <summary>
/// A key grant: a sealed file's key wrapped by the developer's browser to one agent's enclave key
/// for one job. It is a recipient stanza (same HPKE suite and info as the file's own header) whose
/// HPKE associated data also names the key the job's outputs must be sealed to, so a portal that
/// swaps the output key in an assignment makes the grant fail to open instead of receiving results.
/// </summary>
public static class KeyGrant
{
    /// <summary>The associated data of a grant: a tag, a zero byte, the 65-byte output recipient key.</summary>
    public static byte[] AssociatedData(ReadOnlySpan<byte> outputRecipientKey) =>
        [.. "cocoon-grant/v1"u8, 0x00, .. outputRecipientKey];

    /// <summary>Wraps <paramref name="fileKey"/> of the file with <paramref name="header"/> to an enclave key.</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> fileKey, SealedHeader header, ReadOnlySpan<byte> enclavePublicKey, ReadOnlySpan<byte> outputRecipientKey)
    {
        ArgumentNullException.ThrowIfNull(header);
        var (enc, wrapped) = Hpke.Seal(enclavePublicKey, SealedHeader.WrapInfo(header.BlobId, header.Purpose), AssociatedData(outputRecipientKey), fileKey);
        return [.. SealedHeader.KeyId(enclavePublicKey), .. enc, .. wrapped];
    }

    /// <summary>
    /// Opens a grant with the enclave's private key and checks the file's header MAC with the key it
    /// yields. Throws <see cref="SealedDataException"/> when the grant is for another key, another
    /// file, another output key, or was altered.
    /// </summary>
    public static byte[] Unwrap(ReadOnlySpan<byte> grant, SealedHeader header, ECDiffieHellman enclaveKey, ReadOnlySpan<byte> outputRecipientKey)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(enclaveKey);
        if (grant.Length != RecipientStanza.Length)
        {
            throw new SealedDataException($"A key grant is {RecipientStanza.Length} bytes; this one is {grant.Length}.");
        }

        if (!grant[..8].SequenceEqual(SealedHeader.KeyId(Hpke.PublicKeyBytes(enclaveKey))))
        {
            throw new SealedDataException("This key grant was made for another enclave key (the agent restarted since the job was submitted?).");
        }

        var fileKey = Hpke.Open(enclaveKey, grant.Slice(8, Hpke.EncLength), SealedHeader.WrapInfo(header.BlobId, header.Purpose),
            AssociatedData(outputRecipientKey), grant[(8 + Hpke.EncLength)..]);
        header.Payload(fileKey).Dispose();
        return fileKey;
    }
}
