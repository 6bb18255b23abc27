using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>Chain building to one pinned root (Intel's SGX Root CA, or a test root), with no system store and no online revocation.</summary>
public static class CertificateChains
{
    /// <summary>Reads a PEM certificate chain; <paramref name="what"/> names it in the refusal.</summary>
    /// <exception cref="AttestationException">It does not parse.</exception>
    public static X509Certificate2Collection ImportPem(string? pem, string what)
    {
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(pem ?? "");
        }
        catch (CryptographicException ex)
        {
            throw new AttestationException($"{what} does not parse ({ex.Message}).");
        }

        return chain;
    }

    /// <summary>Whether <paramref name="issuer"/> (a PCK CA, by its name) is Intel's Processor CA rather than its Platform CA.</summary>
    public static bool IsProcessorCa(X500DistinguishedName issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        return issuer.Name.Contains("Processor", StringComparison.Ordinal);
    }

    /// <summary>Checks that <paramref name="leaf"/> chains to <paramref name="root"/> at <paramref name="now"/> through <paramref name="intermediates"/>; returns the chain, leaf first.</summary>
    /// <exception cref="AttestationException">It does not; <paramref name="what"/> names the certificate in the message.</exception>
    public static X509Certificate2[] Verify(X509Certificate2 leaf, X509Certificate2Collection intermediates, X509Certificate2 root, DateTimeOffset now, string what)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(intermediates);
        ArgumentNullException.ThrowIfNull(root);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        foreach (var certificate in intermediates)
        {
            if (!certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                chain.ChainPolicy.ExtraStore.Add(certificate);
            }
        }

        bool built;
        try
        {
            built = chain.Build(leaf);
        }
        catch (CryptographicException ex)
        {
            throw new AttestationException($"{what}'s chain is malformed ({ex.Message}).");
        }

        if (!built)
        {
            var problems = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
            throw new AttestationException($"{what} does not chain to the trusted Intel root ({problems}).");
        }

        if (!chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span))
        {
            throw new AttestationException($"{what} chains to another root.");
        }

        return [.. chain.ChainElements.Select(e => e.Certificate)];
    }
}
