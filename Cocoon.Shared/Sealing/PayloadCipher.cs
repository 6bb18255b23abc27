using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cocoon.Shared.Sealing;

/// <summary>
/// The keys derived from a file key and the per-chunk AES-256-GCM of the STREAM construction:
/// nonce = chunk index (88 bits, big-endian) ‖ last-chunk flag byte; additional data = the header MAC.
/// </summary>
public sealed class PayloadCipher : IDisposable
{
    /// <summary>Bytes GCM adds to every chunk.</summary>
    public const int TagLength = 16;

    private readonly AesGcm _gcm;
    private readonly byte[] _headerMac;

    internal PayloadCipher(ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> blobId, byte[] headerMac)
    {
        _gcm = new AesGcm(DeriveKey(fileKey, blobId, "cocoon-sealed/v1 payload"u8), TagLength);
        _headerMac = headerMac;
    }

    /// <summary>HKDF-SHA256 with the blob id as salt: one key per purpose per file.</summary>
    internal static byte[] DeriveKey(ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> blobId, ReadOnlySpan<byte> label)
    {
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, fileKey.ToArray(), blobId.ToArray());
        var key = new byte[32];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, key, label);
        return key;
    }

    /// <summary>Encrypts one chunk into <paramref name="ciphertext"/> (plaintext length + 16 bytes).</summary>
    public void Encrypt(long index, bool last, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Span<byte> nonce = stackalloc byte[12];
        Nonce(index, last, nonce);
        _gcm.Encrypt(nonce, plaintext, ciphertext[..plaintext.Length], ciphertext.Slice(plaintext.Length, TagLength), _headerMac);
    }

    /// <summary>Decrypts one chunk; any chunk opens on its own, given its index and whether it is the last.</summary>
    public void Decrypt(long index, bool last, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (ciphertext.Length < TagLength)
        {
            throw new SealedDataException($"Chunk {index} is shorter than its authentication tag.");
        }

        Span<byte> nonce = stackalloc byte[12];
        Nonce(index, last, nonce);
        try
        {
            _gcm.Decrypt(nonce, ciphertext[..^TagLength], ciphertext[^TagLength..], plaintext[..(ciphertext.Length - TagLength)], _headerMac);
        }
        catch (AuthenticationTagMismatchException)
        {
            plaintext.Clear();
            throw new SealedDataException($"Chunk {index} does not authenticate: the data was altered, cut, reordered or belongs to another file.");
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _gcm.Dispose();

    private static void Nonce(long index, bool last, Span<byte> nonce)
    {
        nonce.Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce[3..11], index);
        nonce[11] = last ? (byte)1 : (byte)0;
    }
}
