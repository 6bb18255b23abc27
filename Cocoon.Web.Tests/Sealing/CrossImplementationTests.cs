using System.Security.Cryptography;
using System.Text.Json;
using Cocoon.Shared.Sealing;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Cocoon.Web.Tests.Sealing;

/// <summary>
/// The envelope written once in C# and once in JavaScript (wwwroot-assets/src/sealing, WebCrypto in
/// node): each opens what the other sealed, at every size edge, and the JS side refuses tampering too.
/// </summary>
public sealed class CrossImplementationTests : IDisposable
{
    private const int Chunk = 1024;
    private readonly string _dir = Directory.CreateTempSubdirectory("cocoon-sealing-").FullName;

    public static TheoryData<int> Sizes => new() { 0, 1, Chunk - 1, Chunk, Chunk + 1, 3 * 1024 * 1024 };

    [Fact]
    public async Task The_javascript_hpke_matches_rfc9180_a31()
    {
        var (code, output, error) = await Node.RunAsync("test/sealing.mjs", "vector");
        Assert.True(code == 0, error);
        Assert.Equal("ok", output);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Javascript_opens_what_csharp_sealed(int size)
    {
        var (jwk, publicKey) = await JsKeyPairAsync();
        var plaintext = RandomNumberGenerator.GetBytes(size);
        var sealedPath = Path.Combine(_dir, "cs.sealed");
        await using (var output = File.Create(sealedPath))
        {
            await SealedEnvelope.SealAsync(new MemoryStream(plaintext), output, [publicKey], "model", Guid.NewGuid(), ChunkFor(size));
        }

        var (code, _, error) = await Node.RunAsync("test/sealing.mjs", "open", sealedPath, Path.Combine(_dir, "js.plain"), jwk);
        Assert.True(code == 0, error);
        Assert.Equal(plaintext, await File.ReadAllBytesAsync(Path.Combine(_dir, "js.plain")));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Csharp_opens_what_javascript_sealed(int size)
    {
        using var recipient = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var plaintext = RandomNumberGenerator.GetBytes(size);
        await File.WriteAllBytesAsync(Path.Combine(_dir, "plain"), plaintext);
        var (code, _, error) = await Node.RunAsync("test/sealing.mjs", "seal", Path.Combine(_dir, "plain"), Path.Combine(_dir, "js.sealed"), "dataset",
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), ChunkFor(size).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToHexStringLower(Hpke.PublicKeyBytes(recipient)));
        Assert.True(code == 0, error);

        var opened = new MemoryStream();
        await using (var input = File.OpenRead(Path.Combine(_dir, "js.sealed")))
        {
            await SealedEnvelope.OpenAsync(input, opened, recipient);
        }

        Assert.Equal(plaintext, opened.ToArray());
    }

    [Fact]
    public async Task Javascript_refuses_tampering_and_the_wrong_key_without_releasing_plaintext()
    {
        var (jwk, publicKey) = await JsKeyPairAsync();
        var (otherJwk, _) = await JsKeyPairAsync();
        var plaintext = RandomNumberGenerator.GetBytes((3 * Chunk) + 5);
        var sealedStream = new MemoryStream();
        var header = await SealedEnvelope.SealAsync(new MemoryStream(plaintext), sealedStream, [publicKey], "model", Guid.NewGuid(), Chunk);
        var sealedBytes = sealedStream.ToArray();
        var step = Chunk + 16;

        var cases = new Dictionary<string, (byte[] Bytes, string Jwk)>
        {
            ["header byte"] = (Flip(sealedBytes, 30), jwk),
            ["header mac"] = (Flip(sealedBytes, header.Length - 1), jwk),
            ["payload byte"] = (Flip(sealedBytes, header.Length + step + 3), jwk),
            ["cut at a chunk boundary"] = (sealedBytes[..(header.Length + (3 * step))], jwk),
            ["chunks swapped"] = ([.. sealedBytes[..header.Length], .. sealedBytes[(header.Length + step)..(header.Length + (2 * step))], .. sealedBytes[header.Length..(header.Length + step)], .. sealedBytes[(header.Length + (2 * step))..]], jwk),
            ["wrong recipient"] = (sealedBytes, otherJwk),
        };
        foreach (var (name, (bytes, key)) in cases)
        {
            var input = Path.Combine(_dir, "tampered");
            var output = Path.Combine(_dir, "released");
            File.Delete(output);
            await File.WriteAllBytesAsync(input, bytes);
            var (code, _, error) = await Node.RunAsync("test/sealing.mjs", "open", input, output, key);
            Assert.True(code == 3, $"{name}: exit {code} {error}");
            Assert.Contains("SealedDataError", error, StringComparison.Ordinal);
            Assert.False(File.Exists(output), $"{name}: plaintext was released");
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int ChunkFor(int size) => size > 1024 * 1024 ? SealedEnvelope.DefaultChunkSize : Chunk;

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = bytes.ToArray();
        copy[at] ^= 0x01;
        return copy;
    }

    private static async Task<(string Jwk, byte[] PublicKey)> JsKeyPairAsync()
    {
        var (code, output, error) = await Node.RunAsync("test/sealing.mjs", "keypair");
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        var publicKey = Convert.FromHexString(json.GetProperty("public").GetString()!);

        // The same key in .NET, to be sure both sides agree on the point.
        var jwk = json.GetProperty("jwk");
        using var imported = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("d").GetString()),
            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("x").GetString()), Y = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("y").GetString()) },
        });
        Assert.Equal(publicKey, Hpke.PublicKeyBytes(imported));
        return (jwk.GetRawText(), publicKey);
    }
}
