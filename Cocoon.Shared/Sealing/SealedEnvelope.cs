using System.Security.Cryptography;

namespace Cocoon.Shared.Sealing;

/// <summary>
/// Streams plaintext into a sealed envelope and back (docs/sealed-envelope.md), in constant memory
/// whatever the size: two chunk buffers at a time.
/// </summary>
public static class SealedEnvelope
{
    /// <summary>64 KiB of plaintext per chunk unless the caller chooses.</summary>
    public const int DefaultChunkSize = 64 * 1024;

    /// <summary>Seals <paramref name="plaintext"/> to every recipient public key (65-byte uncompressed P-256 points).</summary>
    public static async Task<SealedHeader> SealAsync(
        Stream plaintext, Stream output, IReadOnlyList<byte[]> recipientPublicKeys, string purpose, Guid blobId,
        int chunkSize = DefaultChunkSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(output);
        var fileKey = RandomNumberGenerator.GetBytes(32);
        try
        {
            var header = SealedHeader.Create(fileKey, chunkSize, blobId, purpose, recipientPublicKeys);
            await output.WriteAsync(header.Bytes, cancellationToken);
            using var cipher = header.Payload(fileKey);
            var current = new byte[chunkSize];
            var next = new byte[chunkSize];
            var sealedChunk = new byte[chunkSize + PayloadCipher.TagLength];
            var length = await plaintext.ReadAtLeastAsync(current, chunkSize, throwOnEndOfStream: false, cancellationToken);
            for (long index = 0; ; index++)
            {
                // Read ahead one chunk: only then is it known whether this one is the last.
                var nextLength = length == chunkSize ? await plaintext.ReadAtLeastAsync(next, chunkSize, throwOnEndOfStream: false, cancellationToken) : 0;
                var last = nextLength == 0;
                cipher.Encrypt(index, last, current.AsSpan(0, length), sealedChunk);
                await output.WriteAsync(sealedChunk.AsMemory(0, length + PayloadCipher.TagLength), cancellationToken);
                if (last)
                {
                    return header;
                }

                (current, next, length) = (next, current, nextLength);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fileKey);
        }
    }

    /// <summary>
    /// Opens a sealed envelope with the recipient's private key, writing plaintext chunk by chunk as each
    /// authenticates. On <see cref="SealedDataException"/> the output holds only authenticated chunks that
    /// came before the fault and must be discarded (write to a temporary file, keep it only on success).
    /// </summary>
    public static async Task<long> OpenAsync(Stream sealedInput, Stream output, ECDiffieHellman recipient, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sealedInput);
        var header = await SealedHeader.ReadAsync(sealedInput, cancellationToken);
        var fileKey = header.UnwrapFileKey(recipient);
        try
        {
            return await OpenPayloadAsync(header, fileKey, sealedInput, output, cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fileKey);
        }
    }

    /// <summary>Decrypts the chunks that follow a header already read, with a file key from a stanza or a key grant.</summary>
    public static async Task<long> OpenPayloadAsync(SealedHeader header, byte[] fileKey, Stream sealedInput, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(sealedInput);
        ArgumentNullException.ThrowIfNull(output);
        using var cipher = header.Payload(fileKey);
        var size = header.ChunkSize + PayloadCipher.TagLength;
        var current = new byte[size];
        var next = new byte[size];
        var plain = new byte[header.ChunkSize];
        var length = await sealedInput.ReadAtLeastAsync(current, size, throwOnEndOfStream: false, cancellationToken);
        long total = 0;
        for (long index = 0; ; index++)
        {
            if (length < PayloadCipher.TagLength)
            {
                throw new SealedDataException(index == 0 ? "The sealed file has no payload." : $"The sealed file is cut inside chunk {index}.");
            }

            var nextLength = length == size ? await sealedInput.ReadAtLeastAsync(next, size, throwOnEndOfStream: false, cancellationToken) : 0;
            var last = nextLength == 0;
            cipher.Decrypt(index, last, current.AsSpan(0, length), plain);
            var plainLength = length - PayloadCipher.TagLength;
            await output.WriteAsync(plain.AsMemory(0, plainLength), cancellationToken);
            total += plainLength;
            if (last)
            {
                return total;
            }

            (current, next, length) = (next, current, nextLength);
        }
    }
}
