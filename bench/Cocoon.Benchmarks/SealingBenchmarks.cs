using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Cocoon.Shared.Sealing;

namespace Cocoon.Benchmarks;

/// <summary>
/// Streaming decrypt of a sealed 64 MiB file against a bare AesGcm loop over the same chunks: the
/// envelope's cost on top of AES-GCM itself (issue target: at least 80% of the bare loop's throughput).
/// </summary>
[MemoryDiagnoser]
public class SealingBenchmarks
{
    private const int Size = 64 << 20;
    private const int Chunk = SealedEnvelope.DefaultChunkSize;
    private readonly ECDiffieHellman _key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private byte[] _sealed = [];
    private byte[] _bareCiphertext = [];
    private AesGcm _bare = null!;

    [GlobalSetup]
    public void Setup()
    {
        var plaintext = RandomNumberGenerator.GetBytes(Size);
        var output = new MemoryStream();
        SealedEnvelope.SealAsync(new MemoryStream(plaintext), output, [Hpke.PublicKeyBytes(_key)], "dataset", Guid.NewGuid(), Chunk).GetAwaiter().GetResult();
        _sealed = output.ToArray();

        _bare = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
        _bareCiphertext = new byte[Size + (Size / Chunk * 16)];
        var nonce = new byte[12];
        for (var i = 0; i < Size / Chunk; i++)
        {
            nonce[0] = (byte)i;
            _bare.Encrypt(nonce, plaintext.AsSpan(i * Chunk, Chunk), _bareCiphertext.AsSpan(i * (Chunk + 16), Chunk), _bareCiphertext.AsSpan((i * (Chunk + 16)) + Chunk, 16));
        }
    }

    [Benchmark(Baseline = true, Description = "bare AesGcm.Decrypt loop, 64 MiB in 64 KiB chunks")]
    public void BareAesGcm()
    {
        var nonce = new byte[12];
        var plain = new byte[Chunk];
        for (var i = 0; i < Size / Chunk; i++)
        {
            nonce[0] = (byte)i;
            _bare.Decrypt(nonce, _bareCiphertext.AsSpan(i * (Chunk + 16), Chunk), _bareCiphertext.AsSpan((i * (Chunk + 16)) + Chunk, 16), plain);
        }
    }

    [Benchmark(Description = "SealedEnvelope.OpenAsync, 64 MiB (header, HPKE unwrap, MAC, STREAM)")]
    public Task<long> OpenSealed() => SealedEnvelope.OpenAsync(new MemoryStream(_sealed, writable: false), Stream.Null, _key);
}
