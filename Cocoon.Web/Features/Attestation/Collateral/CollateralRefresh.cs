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
}
