namespace Cocoon.Web.Features.Attestation;

/// <summary>Which evidence of an agent's enclave key the portal accepts (section Cocoon:Attestation).</summary>
public sealed class AttestationOptions
{
    public const string Section = "Cocoon:Attestation";

    /// <summary>
    /// Accept development evidence (a statement signed with the agent's pairing key, not backed by
    /// hardware) outside Development (Staging, Production or any other environment). In Development it
    /// is always accepted, so a laptop can run jobs.
    /// </summary>
    public bool AllowDevelopmentEvidence { get; set; }

    /// <summary>
    /// In Development only: a PEM root certificate TDX quotes may chain to instead of Intel's SGX
    /// Root CA (for tests that build quotes on their own hierarchy). Ignored in any other environment.
    /// </summary>
    public string? TestTdxRootCertificatePem { get; set; }

    /// <summary>
    /// A PCCS (Intel's Provisioning Certificate Caching Service, or one speaking its v4 API) the portal
    /// fetches Intel's collateral from when it is missing or stale, and every hour: TCB info, QE identity
    /// and the CRLs. Intel's PCS itself serves all but the root CA's CRL, which an admin then uploads
    /// (Intel publishes it as IntelSGXRootCA.der). Without one, admins upload every document on
    /// Admin → TDX collateral.
    /// </summary>
    public string? PccsUrl { get; set; }

    /// <summary>How long after a collateral document's nextUpdate the portal still judges platforms by it (reporting it stale); past it, TDX agents are refused until it is refreshed.</summary>
    public TimeSpan CollateralGrace { get; set; } = TimeSpan.FromDays(1);
}
