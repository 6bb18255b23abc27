namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>
/// Everything Intel publishes that a TDX quote's platform is judged by: TCB info for the platform's
/// FMSPC, the TD Quoting Enclave's identity, the CRL of the CA that issued the PCK certificate, and the
/// root CA's CRL.
/// </summary>
public sealed record TdxCollateral(TcbInfo TcbInfo, QeIdentity QeIdentity, RevocationList PckCrl, RevocationList RootCrl)
{
    /// <summary>The earliest date one of the documents is due to be replaced; past it the collateral is stale.</summary>
    public DateTimeOffset NextUpdate =>
        new[] { TcbInfo.NextUpdate, QeIdentity.NextUpdate, PckCrl.NextUpdate, RootCrl.NextUpdate }.Min();
}

/// <summary>The TCB judgement of one quote.</summary>
/// <param name="Status">The converged status (platform, TDX module and QE).</param>
/// <param name="AdvisoryIds">Intel security advisories of the matched levels.</param>
/// <param name="Fmspc">The platform family.</param>
/// <param name="TcbDate">The matched platform level's TCB date.</param>
/// <param name="CollateralNextUpdate">When the earliest collateral document was due to be replaced.</param>
/// <param name="Stale">Whether that date has passed: a newer TCB evaluation or revocation may exist.</param>
public sealed record TcbVerdict(TcbStatus Status, IReadOnlyList<string> AdvisoryIds, string Fmspc, DateTimeOffset? TcbDate, DateTimeOffset CollateralNextUpdate, bool Stale);
