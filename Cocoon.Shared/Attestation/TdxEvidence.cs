using System.Security.Cryptography.X509Certificates;

namespace Cocoon.Shared.Attestation;

/// <summary>
/// TDX evidence: a quote that chains to the trusted root, from a TD that is not a debug TD, whose
/// report data is <see cref="EvidenceBinding.ReportData"/> of the agent, the portal's nonce and the
/// enclave key. Whether the TD's measurements are allowed and its platform's TCB is current are the
/// portal's further checks (measurement sets, <see cref="Collateral.TcbEvaluator"/>).
/// </summary>
public static class TdxEvidence
{
    /// <summary>Wraps a quote made for <paramref name="enclavePublicKey"/> as evidence.</summary>
    public static EnclaveEvidence Create(byte[] enclavePublicKey, byte[] quote) =>
        new() { Kind = EvidenceKind.Tdx, PublicKey = enclavePublicKey, Statement = quote, Signature = [] };

    /// <summary>Verifies the quote and its binding to the agent, the nonce and the enclave key; returns the quote.</summary>
    /// <param name="evidence">The agent's evidence: its enclave key and the quote.</param>
    /// <param name="trustedRoot">The root the PCK chain must end in (Intel's SGX Root CA in production).</param>
    /// <param name="now">The time certificates must be valid at.</param>
    /// <param name="agentId">The agent registering.</param>
    /// <param name="nonce">The nonce the portal drew for this connection.</param>
    /// <exception cref="AttestationException">The evidence does not hold; the message says why.</exception>
    public static TdxQuote Verify(EnclaveEvidence evidence, X509Certificate2 trustedRoot, DateTimeOffset now, Guid agentId, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        if (evidence.Kind != EvidenceKind.Tdx || evidence.Statement is null || evidence.PublicKey is null)
        {
            throw new AttestationException("expected a TDX quote.");
        }

        var quote = TdxQuoteVerifier.Verify(evidence.Statement, trustedRoot, now);
        if ((quote.TdAttributes[0] & 1) != 0)
        {
            throw new AttestationException("the quote comes from a debug TD, whose memory its host can read.");
        }

        if (!quote.ReportData.AsSpan().SequenceEqual(EvidenceBinding.ReportData(agentId, nonce, evidence.PublicKey)))
        {
            throw new AttestationException("the quote's report data does not commit to this agent, this connection's nonce and this enclave key (a quote made for another key or agent, or replayed).");
        }

        return quote;
    }
}
