namespace Cocoon.Web.Features.Attestation.Collateral;

/// <summary>The hourly refresh of Intel's collateral from the configured PCCS (nothing to do without one).</summary>
public sealed class CollateralRefresh(TdxCollateralService collateral, PccsClient pccs, EvidenceVerifier verifier)
{
    public const string JobId = "tdx-collateral-refresh";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (pccs.IsConfigured)
        {
            await collateral.RefreshAllAsync(verifier.TdxRoot, cancellationToken);
        }
    }

    /// <summary>What an admin typed or uploaded as bytes: JSON and PEM or hex CRLs as text, anything else as base64 of DER.</summary>
    /// <exception cref="InvalidCollateralException">It is none of those.</exception>
    public static byte[] Decode(string? document)
    {
        var text = (document ?? "").Trim();
        if (text.Length == 0)
        {
            throw new InvalidCollateralException("Paste or upload a collateral document: TCB info or QE identity JSON, or a CRL (PEM, hex or base64 of DER).");
        }

        if (text.StartsWith('{') || text.StartsWith("-----BEGIN", StringComparison.Ordinal) || text.All(char.IsAsciiHexDigit))
        {
            return System.Text.Encoding.UTF8.GetBytes(text);
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new InvalidCollateralException("The document is neither JSON, PEM, hex nor base64.");
        }
    }
}
