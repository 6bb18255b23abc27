using System.Security.Cryptography;
using Cocoon.Shared.Sealing;

namespace Cocoon.Web.Tests.Sealing;

/// <summary>HPKE against RFC 9180 Appendix A.3.1 (DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode).</summary>
public sealed class HpkeTests
{
    // RFC 9180 A.3.1, as published.
    private const string Info = "4f6465206f6e2061204772656369616e2055726e";
    private const string SkEm = "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb";
    private const string PkEm = "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4";
    private const string SkRm = "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2";
    private const string PkRm = "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0";
    private const string Plaintext = "4265617574792069732074727574682c20747275746820626561757479";
    private const string Aad0 = "436f756e742d30";
    private const string Ct0 = "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434";

    internal static ECDiffieHellman Key(string privateHex, string publicHex)
    {
        var point = Convert.FromHexString(publicHex);
        return ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Convert.FromHexString(privateHex),
            Q = new ECPoint { X = point[1..33], Y = point[33..] },
        });
    }

    [Fact]
    public void Seal_with_the_vectors_ephemeral_key_gives_the_published_enc_and_ciphertext()
    {
        using var ephemeral = Key(SkEm, PkEm);
        var (enc, ciphertext) = Hpke.Seal(ephemeral, Convert.FromHexString(PkRm), Convert.FromHexString(Info), Convert.FromHexString(Aad0),
            Convert.FromHexString(Plaintext), Hpke.Aes128Gcm);
        Assert.Equal(PkEm, Convert.ToHexStringLower(enc));
        Assert.Equal(Ct0, Convert.ToHexStringLower(ciphertext));
    }

    [Fact]
    public void Open_with_the_recipient_key_gives_the_published_plaintext()
    {
        using var recipient = Key(SkRm, PkRm);
        var plaintext = Hpke.Open(recipient, Convert.FromHexString(PkEm), Convert.FromHexString(Info), Convert.FromHexString(Aad0),
            Convert.FromHexString(Ct0), Hpke.Aes128Gcm);
        Assert.Equal(Plaintext, Convert.ToHexStringLower(plaintext));
    }

    [Fact]
    public void Aes256_round_trips_and_refuses_any_change()
    {
        using var recipient = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var stranger = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var secret = RandomNumberGenerator.GetBytes(32);
        byte[] info = [1, 2, 3];
        var (enc, ciphertext) = Hpke.Seal(Hpke.PublicKeyBytes(recipient), info, [], secret);
        Assert.Equal(secret, Hpke.Open(recipient, enc, info, [], ciphertext));

        Assert.Throws<SealedDataException>(() => Hpke.Open(stranger, enc, info, [], ciphertext));
        Assert.Throws<SealedDataException>(() => Hpke.Open(recipient, enc, [1, 2, 4], [], ciphertext));
        Assert.Throws<SealedDataException>(() => Hpke.Open(recipient, enc, info, [9], ciphertext));
        Assert.Throws<SealedDataException>(() => Hpke.Open(recipient, enc, info, [], ciphertext, Hpke.Aes128Gcm));
        for (var i = 0; i < ciphertext.Length; i++)
        {
            var altered = ciphertext.ToArray();
            altered[i] ^= 0x80;
            Assert.Throws<SealedDataException>(() => Hpke.Open(recipient, enc, info, [], altered));
        }

        var badEnc = enc.ToArray();
        badEnc[10] ^= 0x01; // off the curve (or another point): either way it does not open
        Assert.Throws<SealedDataException>(() => Hpke.Open(recipient, badEnc, info, [], ciphertext));
        Assert.Throws<SealedDataException>(() => Hpke.Open(recipient, enc.AsSpan(0, 64), info, [], ciphertext));
    }
}
