using System.Security.Cryptography;
using Cocoon.Shared.Sealing;

namespace Cocoon.Web.Tests.Sealing;

/// <summary>The sealed envelope in C#: round trips at the edges of chunks, range reads, and every kind of tampering.</summary>
public sealed class SealedEnvelopeTests : IDisposable
{
    private const int Chunk = 1024;
    private readonly ECDiffieHellman _developer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDiffieHellman _agent = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDiffieHellman _stranger = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    public static TheoryData<int> Sizes => new() { 0, 1, Chunk - 1, Chunk, Chunk + 1, (3 * Chunk) + 7, 3 * 1024 * 1024 };

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Every_recipient_opens_what_was_sealed(int size)
    {
        var plaintext = RandomNumberGenerator.GetBytes(size);
        var chunk = size > 1024 * 1024 ? SealedEnvelope.DefaultChunkSize : Chunk;
        var sealedBytes = await SealAsync(plaintext, chunk);

        var expectedChunks = Math.Max(1, (size + chunk - 1) / chunk);
        Assert.Equal(SealedHeaderLength(2) + size + (expectedChunks * 16L), sealedBytes.Length);
        Assert.Equal(plaintext, await OpenAsync(sealedBytes, _developer));
        Assert.Equal(plaintext, await OpenAsync(sealedBytes, _agent));
        var error = await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(sealedBytes, _stranger));
        Assert.Contains("not sealed to your key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Any_chunk_opens_on_its_own_for_range_reads()
    {
        var plaintext = RandomNumberGenerator.GetBytes((5 * Chunk) + 100);
        var sealedBytes = await SealAsync(plaintext, Chunk);
        var header = await SealedHeader.ReadAsync(new MemoryStream(sealedBytes));
        using var cipher = header.Payload(header.UnwrapFileKey(_agent));
        for (var index = 5; index >= 0; index--)
        {
            var start = (int)header.ChunkOffset(index);
            var last = index == 5;
            var length = last ? sealedBytes.Length - start : Chunk + 16;
            var plain = new byte[length - 16];
            cipher.Decrypt(index, last, sealedBytes.AsSpan(start, length), plain);
            Assert.Equal(plaintext.AsSpan(index * Chunk, plain.Length).ToArray(), plain);
        }
    }

    [Fact]
    public async Task Flipping_any_header_byte_is_refused()
    {
        var sealedBytes = await SealAsync(RandomNumberGenerator.GetBytes(3000), Chunk);
        var headerLength = SealedHeaderLength(2);
        for (var i = 0; i < headerLength; i++)
        {
            var altered = sealedBytes.ToArray();
            altered[i] ^= 0x01;
            await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(altered, _developer));
        }
    }

    [Fact]
    public async Task Flipped_payload_bytes_truncation_reordering_and_duplication_are_refused()
    {
        var plaintext = RandomNumberGenerator.GetBytes((4 * Chunk) + 10);
        var sealedBytes = await SealAsync(plaintext, Chunk);
        var h = SealedHeaderLength(2);
        var c = Chunk + 16;
        byte[][] chunks = [.. Enumerable.Range(0, 5).Select(i => sealedBytes[(h + (i * c))..Math.Min(sealedBytes.Length, h + ((i + 1) * c))])];
        byte[] Rebuild(params int[] order) => [.. sealedBytes[..h], .. order.SelectMany(i => chunks[i])];

        foreach (var position in new[] { h, h + 5, h + c - 1, h + c, sealedBytes.Length - 17, sealedBytes.Length - 1 })
        {
            var altered = sealedBytes.ToArray();
            altered[position] ^= 0x40;
            await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(altered, _developer));
        }

        for (var kept = 0; kept < 5; kept++)
        {
            // Cut at every chunk boundary: the chunk that now ends the file was not sealed as the last.
            await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(Rebuild([.. Enumerable.Range(0, kept)]), _developer));
        }

        await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(sealedBytes[..^1], _developer));
        await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(Rebuild(1, 0, 2, 3, 4), _developer));
        await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(Rebuild(0, 0, 1, 2, 3, 4), _developer));
        await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(Rebuild(0, 1, 2, 3, 4, 4), _developer));
        await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync([.. sealedBytes, .. chunks[4]], _developer));
        Assert.Equal(plaintext, await OpenAsync(Rebuild(0, 1, 2, 3, 4), _developer));
    }

    [Fact]
    public async Task Swapping_headers_between_two_files_is_refused()
    {
        var first = await SealAsync(RandomNumberGenerator.GetBytes(2500), Chunk);
        var second = await SealAsync(RandomNumberGenerator.GetBytes(2500), Chunk);
        var h = SealedHeaderLength(2);
        await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync([.. first[..h], .. second[h..]], _developer));
        await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync([.. second[..h], .. first[h..]], _agent));
    }

    [Fact]
    public async Task A_key_grant_to_another_agent_opens_the_payload_and_binds_blob_and_purpose()
    {
        var plaintext = RandomNumberGenerator.GetBytes(5000);
        var sealedBytes = await SealAsync(plaintext, Chunk);
        var header = await SealedHeader.ReadAsync(new MemoryStream(sealedBytes));
        var fileKey = header.UnwrapFileKey(_developer);

        // The developer grants the file key to a third key, which is not in the header.
        var grant = SealedHeader.Wrap(fileKey, Hpke.PublicKeyBytes(_stranger), header.BlobId, header.Purpose);
        var unwrapped = Hpke.Open(_stranger, grant.Enc, SealedHeader.WrapInfo(header.BlobId, header.Purpose), [], grant.WrappedKey);
        var output = new MemoryStream();
        var input = new MemoryStream(sealedBytes) { Position = header.Length };
        await SealedEnvelope.OpenPayloadAsync(header, unwrapped, input, output);
        Assert.Equal(plaintext, output.ToArray());

        // A grant made for another blob or purpose does not open.
        Assert.Throws<SealedDataException>(() => Hpke.Open(_stranger, grant.Enc, SealedHeader.WrapInfo(Guid.NewGuid(), header.Purpose), [], grant.WrappedKey));
        Assert.Throws<SealedDataException>(() => Hpke.Open(_stranger, grant.Enc, SealedHeader.WrapInfo(header.BlobId, "output"), [], grant.WrappedKey));
        Assert.Throws<SealedDataException>(() => header.Payload(RandomNumberGenerator.GetBytes(32)));
    }

    [Fact]
    public async Task Not_a_sealed_file_or_an_empty_payload_is_refused_with_a_reason()
    {
        var notSealed = await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync("hello world, this is plain text"u8.ToArray(), _developer));
        Assert.Contains("not a Cocoon sealed file", notSealed.Message, StringComparison.Ordinal);
        var sealedBytes = await SealAsync([], Chunk);
        var noPayload = await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(sealedBytes[..SealedHeaderLength(2)], _developer));
        Assert.Contains("no payload", noPayload.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SealedDataException>(() => OpenAsync(sealedBytes[..40], _developer));
    }

    public void Dispose()
    {
        _developer.Dispose();
        _agent.Dispose();
        _stranger.Dispose();
    }

    internal static int SealedHeaderLength(int recipients) => 4 + 1 + 4 + 16 + 1 + "dataset".Length + 1 + (recipients * RecipientStanza.Length) + SealedHeader.MacLength;

    private async Task<byte[]> SealAsync(byte[] plaintext, int chunk)
    {
        var output = new MemoryStream();
        await SealedEnvelope.SealAsync(new MemoryStream(plaintext), output, [Hpke.PublicKeyBytes(_developer), Hpke.PublicKeyBytes(_agent)], "dataset", Guid.NewGuid(), chunk);
        return output.ToArray();
    }

    private static async Task<byte[]> OpenAsync(byte[] sealedBytes, ECDiffieHellman key)
    {
        var output = new MemoryStream();
        await SealedEnvelope.OpenAsync(new MemoryStream(sealedBytes), output, key);
        return output.ToArray();
    }
}
