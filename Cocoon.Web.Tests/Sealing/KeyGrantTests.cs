using System.Security.Cryptography;
using Cocoon.Shared.Sealing;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Sealing;

public sealed class KeyGrantTests
{
    [Fact]
    public async Task A_grant_opens_only_with_its_enclave_key_its_file_and_its_output_key()
    {
        using var developer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var enclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var otherEnclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var portalKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var (header, fileKey) = await SealAsync(developer, "model");
        var (otherHeader, _) = await SealAsync(developer, "model");
        var outputKey = Hpke.PublicKeyBytes(developer);

        var grant = KeyGrant.Wrap(fileKey, header, Hpke.PublicKeyBytes(enclave), outputKey);

        Assert.Equal(RecipientStanza.Length, grant.Length);
        Assert.Equal(fileKey, KeyGrant.Unwrap(grant, header, enclave, outputKey));
        // Another agent, another file, or a portal that swapped the output key for its own: nothing opens.
        Assert.Throws<SealedDataException>(() => KeyGrant.Unwrap(grant, header, otherEnclave, outputKey));
        Assert.Throws<SealedDataException>(() => KeyGrant.Unwrap(grant, otherHeader, enclave, outputKey));
        Assert.Throws<SealedDataException>(() => KeyGrant.Unwrap(grant, header, enclave, Hpke.PublicKeyBytes(portalKey)));
        for (var i = 8; i < grant.Length; i += 7)
        {
            var tampered = (byte[])grant.Clone();
            tampered[i] ^= 0x40;
            Assert.Throws<SealedDataException>(() => KeyGrant.Unwrap(tampered, header, enclave, outputKey));
        }

        Assert.Throws<SealedDataException>(() => KeyGrant.Unwrap(grant.AsSpan(1).ToArray(), header, enclave, outputKey));
    }

    [Fact]
    public async Task A_grant_the_browser_code_wraps_opens_in_the_agent()
    {
        var dir = Directory.CreateTempSubdirectory("cocoon-grant-").FullName;
        var (_, keypair, error) = await Node.RunAsync("test/sealing.mjs", "keypair");
        Assert.True(error.Length == 0, error);
        var pair = System.Text.Json.JsonDocument.Parse(keypair).RootElement;
        var ownerPublic = Convert.FromHexString(pair.GetProperty("public").GetString()!);
        using var enclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var plain = RandomNumberGenerator.GetBytes(5000);
        var path = Path.Combine(dir, "model.sealed");
        await using (var file = File.Create(path))
        {
            await SealedEnvelope.SealAsync(new MemoryStream(plain), file, [ownerPublic], "model", Guid.NewGuid(), 1024);
        }

        var (code, grantHex, grantError) = await Node.RunAsync("test/sealing.mjs", "grant", path, pair.GetProperty("jwk").GetRawText(),
            Convert.ToHexStringLower(Hpke.PublicKeyBytes(enclave)), Convert.ToHexStringLower(ownerPublic));
        Assert.True(code == 0, grantError);

        await using var sealedFile = File.OpenRead(path);
        var header = await SealedHeader.ReadAsync(sealedFile);
        var fileKey = KeyGrant.Unwrap(Convert.FromHexString(grantHex), header, enclave, ownerPublic);
        var opened = new MemoryStream();
        await SealedEnvelope.OpenPayloadAsync(header, fileKey, sealedFile, opened);
        Assert.Equal(plain, opened.ToArray());
        Assert.Throws<SealedDataException>(() => KeyGrant.Unwrap(Convert.FromHexString(grantHex), header, enclave, Hpke.PublicKeyBytes(enclave)));
        Directory.Delete(dir, recursive: true);
    }

    private static async Task<(SealedHeader Header, byte[] FileKey)> SealAsync(ECDiffieHellman owner, string purpose)
    {
        var output = new MemoryStream();
        await SealedEnvelope.SealAsync(new MemoryStream(RandomNumberGenerator.GetBytes(3000)), output, [Hpke.PublicKeyBytes(owner)], purpose, Guid.NewGuid(), 1024);
        output.Position = 0;
        var header = await SealedHeader.ReadAsync(output);
        return (header, header.UnwrapFileKey(owner));
    }
}
