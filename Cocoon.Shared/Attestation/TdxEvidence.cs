using System.Security.Cryptography.X509Certificates;

namespace Cocoon.Shared.Attestation;

/// <summary>
/// TDX evidence: a quote whose report data is SHA-256 of the enclave key followed by 32 zero bytes,
/// from a TD that is not a debug TD, whose MRTD an admin has allowed.
/// </summary>
public static class TdxEvidence
{
    /// <summary>Wraps a quote made for <paramref name="enclavePublicKey"/> as evidence.</summary>
    public static EnclaveEvidence Create(byte[] enclavePublicKey, byte[] quote) =>
        new() { Kind = EvidenceKind.Tdx, PublicKey = enclavePublicKey, Statement = quote, Signature = [] };

    /// <summary>Verifies the quote, its binding to the enclave key and its measurement; returns the quote.</summary>
    /// <param name="evidence">The agent's evidence: its enclave key and the quote.</param>
    /// <param name="trustedRoot">The root the PCK chain must end in (Intel's SGX Root CA in production).</param>
    /// <param name="now">The time certificates must be valid at.</param>
    /// <param name="isAllowed">Whether an MRTD (lower-case hex) is on the allow-list.</param>
    /// <exception cref="AttestationException">The evidence does not hold; the message says why.</exception>
    public static TdxQuote Verify(EnclaveEvidence evidence, X509Certificate2 trustedRoot, DateTimeOffset now, Func<string, bool> isAllowed)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(isAllowed);
        if (evidence.Kind != EvidenceKind.Tdx || evidence.Statement is null || evidence.PublicKey is null)
        {
            throw new AttestationException("expected a TDX quote.");
        }

        var quote = TdxQuoteVerifier.Verify(evidence.Statement, trustedRoot, now);
        if ((quote.TdAttributes[0] & 1) != 0)
        {
            throw new AttestationException("the quote comes from a debug TD, whose memory its host can read.");
        }

        if (!quote.ReportData.AsSpan().SequenceEqual(TdxQuoteVerifier.ReportDataFor(evidence.PublicKey)))
        {
            throw new AttestationException("the quote's report data does not commit to this enclave key.");
        }

        var mrtd = Convert.ToHexStringLower(quote.MrTd);
        if (!isAllowed(mrtd))
        {
            throw new AttestationException($"its TD measurement (MRTD {mrtd}) is not on this portal's allow-list; an admin can add it on Admin → TDX measurements.");
        }

        return quote;
    }
}
