using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cocoon.Shared.Sealing;

/// <summary>
/// HPKE (RFC 9180) base mode with DHKEM(P-256, HKDF-SHA256) and HKDF-SHA256, single-shot, for
/// wrapping short secrets (file keys) to a recipient's P-256 public key. The AEAD is AES-GCM with a
/// 256-bit key (aead_id 0x0002) unless a test asks for AES-128-GCM (0x0001) to check the RFC's
/// published vectors. Everything here is .NET's own ECDiffieHellman, HKDF and AesGcm.
/// </summary>
public static class Hpke
{
    /// <summary>DHKEM(P-256, HKDF-SHA256).</summary>
    public const ushort KemP256 = 0x0010;

    /// <summary>HKDF-SHA256.</summary>
    public const ushort KdfSha256 = 0x0001;

    /// <summary>AES-128-GCM.</summary>
    public const ushort Aes128Gcm = 0x0001;

    /// <summary>AES-256-GCM, what Cocoon uses.</summary>
    public const ushort Aes256Gcm = 0x0002;

    /// <summary>Length of an encapsulated key (an uncompressed P-256 point).</summary>
    public const int EncLength = 65;

    private const int Nh = 32;
    private const int Nn = 12;
    private const int Nt = 16;
    private static readonly byte[] Version = "HPKE-v1"u8.ToArray();

    /// <summary>Wraps <paramref name="plaintext"/> to the recipient; returns the encapsulated key and the ciphertext.</summary>
    public static (byte[] Enc, byte[] Ciphertext) Seal(ReadOnlySpan<byte> recipientPublicKey, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext, ushort aeadId = Aes256Gcm)
    {
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return Seal(ephemeral, recipientPublicKey, info, aad, plaintext, aeadId);
    }

    /// <summary>Seal with a given ephemeral key (test vectors fix it).</summary>
    public static (byte[] Enc, byte[] Ciphertext) Seal(ECDiffieHellman ephemeral, ReadOnlySpan<byte> recipientPublicKey, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext, ushort aeadId = Aes256Gcm)
    {
        ArgumentNullException.ThrowIfNull(ephemeral);
        var enc = PublicKeyBytes(ephemeral);
        using var recipient = ImportPublic(recipientPublicKey);
        var dh = ephemeral.DeriveRawSecretAgreement(recipient.PublicKey);
        var shared = ExtractAndExpand(dh, [.. enc, .. recipientPublicKey]);
        var (key, nonce) = KeySchedule(shared, info, aeadId);
        var ciphertext = new byte[plaintext.Length + Nt];
        using var gcm = new AesGcm(key, Nt);
        gcm.Encrypt(nonce, plaintext, ciphertext.AsSpan(0, plaintext.Length), ciphertext.AsSpan(plaintext.Length), aad);
        return (enc, ciphertext);
    }

    /// <summary>Unwraps; throws <see cref="SealedDataException"/> when the key, info, aad or ciphertext do not match.</summary>
    public static byte[] Open(ECDiffieHellman recipient, ReadOnlySpan<byte> enc, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext, ushort aeadId = Aes256Gcm)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (enc.Length != EncLength || ciphertext.Length < Nt)
        {
            throw new SealedDataException("The wrapped key is malformed.");
        }

        byte[] dh;
        try
        {
            using var ephemeral = ImportPublic(enc);
            dh = recipient.DeriveRawSecretAgreement(ephemeral.PublicKey);
        }
        catch (CryptographicException)
        {
            throw new SealedDataException("The wrapped key's ephemeral point is not on P-256.");
        }

        var shared = ExtractAndExpand(dh, [.. enc, .. PublicKeyBytes(recipient)]);
        var (key, nonce) = KeySchedule(shared, info, aeadId);
        var plaintext = new byte[ciphertext.Length - Nt];
        try
        {
            using var gcm = new AesGcm(key, Nt);
            gcm.Decrypt(nonce, ciphertext[..^Nt], ciphertext[^Nt..], plaintext, aad);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SealedDataException("The wrapped key does not open with this private key (wrong recipient, or altered).");
        }

        return plaintext;
    }

    /// <summary>The uncompressed SEC1 encoding (0x04 ‖ X ‖ Y) of a key's public point.</summary>
    public static byte[] PublicKeyBytes(ECDiffieHellman key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var q = key.ExportParameters(false).Q;
        return [0x04, .. q.X!, .. q.Y!];
    }

    /// <summary>Imports an uncompressed P-256 public point; throws <see cref="SealedDataException"/> if it is not one.</summary>
    public static ECDiffieHellman ImportPublic(ReadOnlySpan<byte> point)
    {
        if (point.Length != EncLength || point[0] != 0x04)
        {
            throw new SealedDataException("A P-256 public key is 65 bytes, uncompressed (0x04 ‖ X ‖ Y).");
        }

        try
        {
            return ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = point[1..33].ToArray(), Y = point[33..].ToArray() },
            });
        }
        catch (CryptographicException)
        {
            throw new SealedDataException("The public key is not a point on P-256.");
        }
    }

    private static byte[] ExtractAndExpand(byte[] dh, byte[] kemContext)
    {
        byte[] suite = [.. "KEM"u8, .. I2Osp(KemP256, 2)];
        var prk = LabeledExtract(suite, [], "eae_prk"u8, dh);
        return LabeledExpand(suite, prk, "shared_secret"u8, kemContext, Nh);
    }

    private static (byte[] Key, byte[] Nonce) KeySchedule(byte[] shared, ReadOnlySpan<byte> info, ushort aeadId)
    {
        var nk = aeadId switch
        {
            Aes128Gcm => 16,
            Aes256Gcm => 32,
            _ => throw new ArgumentOutOfRangeException(nameof(aeadId), aeadId, "Only AES-128-GCM and AES-256-GCM are supported."),
        };
        byte[] suite = [.. "HPKE"u8, .. I2Osp(KemP256, 2), .. I2Osp(KdfSha256, 2), .. I2Osp(aeadId, 2)];
        var pskIdHash = LabeledExtract(suite, [], "psk_id_hash"u8, []);
        var infoHash = LabeledExtract(suite, [], "info_hash"u8, info);
        byte[] context = [0x00, .. pskIdHash, .. infoHash];
        var secret = LabeledExtract(suite, shared, "secret"u8, []);
        return (LabeledExpand(suite, secret, "key"u8, context, nk), LabeledExpand(suite, secret, "base_nonce"u8, context, Nn));
    }

    private static byte[] LabeledExtract(ReadOnlySpan<byte> suite, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> label, ReadOnlySpan<byte> ikm) =>
        HKDF.Extract(HashAlgorithmName.SHA256, [.. Version, .. suite, .. label, .. ikm], salt.ToArray());

    private static byte[] LabeledExpand(ReadOnlySpan<byte> suite, byte[] prk, ReadOnlySpan<byte> label, ReadOnlySpan<byte> info, int length)
    {
        var output = new byte[length];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, output, [.. I2Osp(length, 2), .. Version, .. suite, .. label, .. info]);
        return output;
    }

    private static byte[] I2Osp(int value, int length)
    {
        var bytes = new byte[length];
        if (length == 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(length - 4), value);
        }

        return bytes;
    }
}
