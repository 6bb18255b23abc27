using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>
/// An X.509 CRL (RFC 5280 §5) read far enough to check it: who issued it, when it was issued and
/// is next due, the revoked serial numbers, and its ECDSA signature over the TBS bytes. .NET builds
/// CRLs but does not read them, and Intel's CRLs are checked against certificates the portal pins,
/// not the machine's store.
/// </summary>
public sealed class RevocationList
{
    private readonly HashSet<BigInteger> _revoked;

    private RevocationList(byte[] der, byte[] tbs, byte[] issuer, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate, HashSet<BigInteger> revoked, byte[] signature)
    {
        Der = der;
        Tbs = tbs;
        IssuerName = issuer;
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        _revoked = revoked;
        Signature = signature;
    }

    /// <summary>The list as DER.</summary>
    public byte[] Der { get; }

    private byte[] Tbs { get; }

    private byte[] IssuerName { get; }

    private byte[] Signature { get; }

    /// <summary>When it was issued.</summary>
    public DateTimeOffset ThisUpdate { get; }

    /// <summary>When the next one is due; past it the list is stale.</summary>
    public DateTimeOffset NextUpdate { get; }

    /// <summary>How many certificates it revokes.</summary>
    public int Count => _revoked.Count;

    /// <summary>The issuer's distinguished name, for messages.</summary>
    public string Issuer
    {
        get
        {
            try
            {
                return new X500DistinguishedName(IssuerName).Name;
            }
            catch (CryptographicException)
            {
                return "an unreadable name";
            }
        }
    }

    /// <summary>Reads a CRL given as DER, PEM, or hex of DER (PCCS serves the root CA's CRL as hex).</summary>
    /// <exception cref="AttestationException">It is none of those, does not parse as a CRL, or names no next update (so it could never go stale).</exception>
    public static RevocationList Parse(ReadOnlySpan<byte> data)
    {
        try
        {
            var der = Decode(data);
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            var list = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            var tbsBytes = list.PeekEncodedValue().ToArray();
            var tbs = list.ReadSequence();
            list.ReadSequence(); // signatureAlgorithm
            var signature = list.ReadBitString(out _);
            list.ThrowIfNotEmpty();

            if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            {
                tbs.ReadInteger(); // version v2
            }

            tbs.ReadSequence(); // signature algorithm
            var issuer = tbs.ReadEncodedValue().ToArray();
            var thisUpdate = ReadTime(tbs);
            var nextUpdate = tbs.HasData && IsTime(tbs.PeekTag())
                ? ReadTime(tbs)
                : throw new AttestationException("the revocation list names no next update, so it could never be found stale.");
            var revoked = new HashSet<BigInteger>();
            if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
            {
                var entries = tbs.ReadSequence();
                while (entries.HasData)
                {
                    var entry = entries.ReadSequence();
                    revoked.Add(entry.ReadInteger());
                }
            }

            return new RevocationList(der, tbsBytes, issuer, thisUpdate, nextUpdate, revoked, signature);
        }
        catch (Exception ex) when (ex is not AttestationException && Malformed.Is(ex))
        {
            throw new AttestationException($"the revocation list does not parse ({ex.Message}).");
        }
    }

    /// <summary>Whether this list was issued by <paramref name="issuer"/> and carries its signature.</summary>
    public bool IsSignedBy(X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        if (!issuer.SubjectName.RawData.AsSpan().SequenceEqual(IssuerName))
        {
            return false;
        }

        try
        {
            using var key = issuer.GetECDsaPublicKey();
            return key is not null && key.VerifyData(Tbs, Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="certificate"/>'s serial number is on this list.</summary>
    public bool Revokes(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _revoked.Contains(new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: false, isBigEndian: true));
    }

    private static byte[] Decode(ReadOnlySpan<byte> data)
    {
        var text = Encoding.ASCII.GetString(data).Trim();
        if (text.StartsWith("-----BEGIN X509 CRL-----", StringComparison.Ordinal))
        {
            var body = text["-----BEGIN X509 CRL-----".Length..];
            var end = body.IndexOf("-----END X509 CRL-----", StringComparison.Ordinal);
            return Convert.FromBase64String(end < 0 ? body : body[..end]);
        }

        if (text.Length > 0 && text.Length % 2 == 0 && text.All(char.IsAsciiHexDigit))
        {
            return Convert.FromHexString(text);
        }

        if (data.Length > 0 && data[0] == 0x30)
        {
            return data.ToArray();
        }

        throw new AttestationException("the revocation list is neither DER, PEM nor hex.");
    }

    private static bool IsTime(Asn1Tag tag) => tag.HasSameClassAndValue(Asn1Tag.UtcTime) || tag.HasSameClassAndValue(Asn1Tag.GeneralizedTime);

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();
}
