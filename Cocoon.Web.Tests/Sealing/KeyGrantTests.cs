using System.Security.Cryptography;
using Cocoon.Shared.Sealing;

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

    private static async Task<(SealedHeader Header, byte[] FileKey)> SealAsync(ECDiffieHellman owner, string purpose)
    {
        var output = new MemoryStream();
        await SealedEnvelope.SealAsync(new MemoryStream(RandomNumberGenerator.GetBytes(3000)), output, [Hpke.PublicKeyBytes(owner)], purpose, Guid.NewGuid(), 1024);
        output.Position = 0;
        var header = await SealedHeader.ReadAsync(output);
        return (header, header.UnwrapFileKey(owner));
    }
}
