using System.Security.Cryptography;
using Cocoon.Agent.Inference;
using Cocoon.Agent.ModelRuns;
using Cocoon.Shared.Sealing;

namespace Cocoon.Agent.Tests.ModelRuns;

public sealed class SealedRangeReaderTests
{
    private const int Chunk = 1024;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Chunk)]
    [InlineData((Chunk * 5) + 17)]
    public async Task Any_range_reads_back_exactly_and_fetches_only_its_chunks(int size)
    {
        var plain = RandomNumberGenerator.GetBytes(size);
        var (sealedBytes, header, fileKey) = await SealAsync(plain);
        var fetched = new List<(long Offset, int Length)>();
        using var reader = new SealedRangeReader((o, l, _) =>
        {
            fetched.Add((o, l));
            return Task.FromResult(sealedBytes.AsSpan((int)o, l).ToArray());
        }, header, fileKey, sealedBytes.Length);

        Assert.Equal(size, reader.Length);
        var random = new Random(size);
        for (var i = 0; i < 50 && size > 0; i++)
        {
            var offset = random.Next(size);
            var length = random.Next(0, size - offset + 1);
            fetched.Clear();
            Assert.Equal(plain.AsSpan(offset, length).ToArray(), await reader.ReadAsync(offset, length, CancellationToken.None));
            if (length > 0)
            {
                var chunks = ((offset + length - 1) / Chunk) - (offset / Chunk) + 1;
                Assert.Single(fetched);
                Assert.True(fetched[0].Length <= chunks * (Chunk + 16), $"fetched {fetched[0].Length} bytes for {chunks} chunk(s)");
            }
        }

        await Assert.ThrowsAsync<SealedDataException>(() => reader.ReadAsync(size, 1, CancellationToken.None));
    }

    [Fact]
    public async Task A_tampered_chunk_fails_and_yields_no_plaintext()
    {
        var plain = RandomNumberGenerator.GetBytes(Chunk * 3);
        var (sealedBytes, header, fileKey) = await SealAsync(plain);
        sealedBytes[header.ChunkOffset(1) + 5] ^= 1;
        using var reader = new SealedRangeReader((o, l, _) => Task.FromResult(sealedBytes.AsSpan((int)o, l).ToArray()), header, fileKey, sealedBytes.Length);

        Assert.Equal(plain.AsSpan(0, 100).ToArray(), await reader.ReadAsync(0, 100, CancellationToken.None));
        await Assert.ThrowsAsync<SealedDataException>(() => reader.ReadAsync(Chunk + 10, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_truncated_file_is_refused()
    {
        var (sealedBytes, header, fileKey) = await SealAsync(RandomNumberGenerator.GetBytes(Chunk * 2));
        using var reader = new SealedRangeReader((o, l, _) => Task.FromResult(sealedBytes.AsSpan((int)o, l).ToArray()), header, fileKey, header.ChunkOffset(1));

        // Cut at a chunk boundary, the first chunk now claims to be the last: its tag says otherwise.
        await Assert.ThrowsAsync<SealedDataException>(() => reader.ReadAsync(0, 10, CancellationToken.None));
    }

    [Fact]
    public async Task Rows_of_a_safetensors_dataset_come_back_from_only_their_chunks()
    {
        var rows = 600;
        var x = Enumerable.Range(0, rows * 4).Select(i => (float)i).ToArray();
        var labels = Enumerable.Range(0, rows).Select(i => (float)-i).ToArray();
        var file = TensorFiles.WriteSafetensors(new Dictionary<string, Tensor> { ["x"] = new([rows, 4], x), ["label"] = new([rows, 1], labels) });
        var (sealedBytes, header, fileKey) = await SealAsync(file);
        long bytesFetched = 0;
        using var reader = new SealedRangeReader((o, l, _) =>
        {
            bytesFetched += l;
            return Task.FromResult(sealedBytes.AsSpan((int)o, l).ToArray());
        }, header, fileKey, sealedBytes.Length);
        Task<byte[]> Read(long o, int l) => reader.ReadAsync(o, l, CancellationToken.None);

        var entries = await Safetensors.ReadHeaderAsync(Read, reader.Length);
        bytesFetched = 0;
        var slice = await Safetensors.ReadRowsAsync(entries.Single(e => e.Name == "x"), 500, 7, Read);

        Assert.Equal([7, 4], slice.Shape);
        Assert.Equal(x.AsSpan(500 * 4, 28).ToArray(), slice.Data);
        Assert.True(bytesFetched <= 2 * (Chunk + 16), $"{bytesFetched} bytes fetched for 7 rows of a {sealedBytes.Length}-byte file");
        Assert.Equal(-599f, (await Safetensors.ReadRowsAsync(entries.Single(e => e.Name == "label"), 599, 1, Read)).Data[0]);
        await Assert.ThrowsAsync<ModelException>(() => Safetensors.ReadRowsAsync(entries[0], 599, 2, Read));
    }

    private static async Task<(byte[] Sealed, SealedHeader Header, byte[] FileKey)> SealAsync(byte[] plain)
    {
        using var owner = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var output = new MemoryStream();
        await SealedEnvelope.SealAsync(new MemoryStream(plain), output, [Hpke.PublicKeyBytes(owner)], "dataset", Guid.NewGuid(), Chunk);
        var bytes = output.ToArray();
        var header = await SealedHeader.ReadAsync(new MemoryStream(bytes));
        return (bytes, header, header.UnwrapFileKey(owner));
    }
}
