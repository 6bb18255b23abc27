using Cocoon.Shared.Sealing;

namespace Cocoon.Agent.ModelRuns;

/// <summary>
/// Random access to the plaintext of a sealed blob that stays on the portal: a plaintext range maps
/// to the chunks that hold it, only those chunks' ciphertext is fetched (one range request), and each
/// is authenticated and decrypted on its own in memory.
/// </summary>
public sealed class SealedRangeReader : IDisposable
{
    private readonly Func<long, int, CancellationToken, Task<byte[]>> _fetch;
    private readonly SealedHeader _header;
    private readonly PayloadCipher _cipher;
    private readonly long _chunkCount;
    private readonly long _stride;
    private readonly long _sealedSize;

    /// <param name="fetch">Reads <c>length</c> ciphertext bytes at <c>offset</c> of the sealed blob.</param>
    /// <param name="header">The blob's header (already read from its start).</param>
    /// <param name="fileKey">The file key from a key grant.</param>
    /// <param name="sealedSize">Ciphertext size of the whole blob.</param>
    public SealedRangeReader(Func<long, int, CancellationToken, Task<byte[]>> fetch, SealedHeader header, byte[] fileKey, long sealedSize)
    {
        ArgumentNullException.ThrowIfNull(header);
        _fetch = fetch;
        _header = header;
        _stride = header.ChunkSize + (long)PayloadCipher.TagLength;
        _sealedSize = sealedSize;
        var payload = sealedSize - header.Length;
        if (payload < PayloadCipher.TagLength)
        {
            throw new SealedDataException("The sealed file is shorter than its header says.");
        }

        _chunkCount = (payload + _stride - 1) / _stride;
        var lastCipher = payload - ((_chunkCount - 1) * _stride);
        if (lastCipher < PayloadCipher.TagLength)
        {
            throw new SealedDataException("The sealed file ends inside a chunk's tag.");
        }

        Length = ((_chunkCount - 1) * header.ChunkSize) + (lastCipher - PayloadCipher.TagLength);
        _cipher = header.Payload(fileKey);
    }

    /// <summary>Plaintext length.</summary>
    public long Length { get; }

    /// <summary>Reads plaintext bytes [offset, offset + length).</summary>
    public async Task<byte[]> ReadAsync(long offset, int length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset + length > Length)
        {
            throw new SealedDataException($"Bytes {offset}..{offset + length} lie past the end of the file ({Length} bytes).");
        }

        var result = new byte[length];
        if (length == 0)
        {
            return result;
        }

        var first = offset / _header.ChunkSize;
        var last = (offset + length - 1) / _header.ChunkSize;
        var start = _header.ChunkOffset(first);
        var end = Math.Min(_header.ChunkOffset(last) + _stride, _sealedSize);
        var cipher = await _fetch(start, checked((int)(end - start)), cancellationToken);
        if (cipher.Length != end - start)
        {
            throw new SealedDataException("The portal returned fewer bytes than asked for.");
        }

        var plain = new byte[_header.ChunkSize];
        for (var index = first; index <= last; index++)
        {
            var at = (int)((index - first) * _stride);
            var size = (int)Math.Min(_stride, cipher.Length - at);
            var plainLength = size - PayloadCipher.TagLength;
            _cipher.Decrypt(index, index == _chunkCount - 1, cipher.AsSpan(at, size), plain.AsSpan(0, plainLength));

            var chunkStart = index * _header.ChunkSize;
            var from = Math.Max(offset, chunkStart);
            var to = Math.Min(offset + length, chunkStart + plainLength);
            plain.AsSpan((int)(from - chunkStart), (int)(to - from)).CopyTo(result.AsSpan((int)(from - offset)));
        }

        System.Security.Cryptography.CryptographicOperations.ZeroMemory(plain);
        return result;
    }

    public void Dispose() => _cipher.Dispose();
}
