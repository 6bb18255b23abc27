using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cocoon.Shared.Attestation.Collateral;

namespace Cocoon.Shared.Attestation;

/// <summary>
/// Verifies a TDX v4 quote whose PCK chain is embedded: the chain up to the trusted root (Intel's SGX
/// Root CA unless a test names another), the PCK key's signature over the Quoting Enclave's report,
/// that report's commitment to the attestation key, and the attestation key's signature over the
/// quote's header and TD report. Revocation and TCB levels come from Intel's collateral and are
/// checked by <see cref="Collateral.TcbEvaluator"/>.
/// </summary>
public static class TdxQuoteVerifier
{
    /// <summary>Intel SGX Root CA (CN=Intel SGX Root CA, valid 2018-05-21 to 2049-12-31), SHA-256 44a0196b…b674d3.</summary>
    public const string IntelSgxRootCaPem = """
        -----BEGIN CERTIFICATE-----
        MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
        aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
        cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
        BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
        A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
        aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
        AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
        1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
        uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
        MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
        ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
        Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
        KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
        AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
        -----END CERTIFICATE-----
        """;

    /// <summary>Intel's root, loaded once.</summary>
    public static X509Certificate2 IntelRoot { get; } = X509Certificate2.CreateFromPem(IntelSgxRootCaPem);

    /// <exception cref="AttestationException">Any check fails; the message names which.</exception>
    public static TdxQuote Verify(ReadOnlySpan<byte> rawQuote, X509Certificate2 trustedRoot, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(trustedRoot);
        var quote = TdxQuote.Parse(rawQuote);
        var pck = quote.PckChain[0];
        CertificateChains.Verify(pck, quote.PckChain, trustedRoot, now, "the quote's PCK certificate");

        using (var pckKey = pck.GetECDsaPublicKey() ?? throw new AttestationException("the PCK certificate holds no ECDSA key."))
        {
            if (!pckKey.VerifyData(quote.QeReport, quote.QeReportSignature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                throw new AttestationException("the Quoting Enclave's report is not signed by the PCK key.");
            }
        }

        var expected = SHA256.HashData([.. quote.AttestationKey, .. quote.QeAuthData]);
        if (!quote.QeReport.AsSpan(320, 32).SequenceEqual(expected) || quote.QeReport.AsSpan(352, 32).ContainsAnyExcept((byte)0))
        {
            throw new AttestationException("the Quoting Enclave's report does not commit to the quote's attestation key.");
        }

        using (var attestationKey = AttestationKey(quote))
        {
            if (!attestationKey.VerifyData(quote.Raw.AsSpan(0, TdxQuote.SignedLength), quote.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                throw new AttestationException("the quote's signature does not verify with its attestation key.");
            }
        }

        return quote;
    }

    private static ECDsa AttestationKey(TdxQuote quote)
    {
        try
        {
            return ECDsa.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = quote.AttestationKey[..32], Y = quote.AttestationKey[32..] },
            });
        }
        catch (CryptographicException)
        {
            throw new AttestationException("the quote's attestation key is not a point on P-256.");
        }
    }
}
