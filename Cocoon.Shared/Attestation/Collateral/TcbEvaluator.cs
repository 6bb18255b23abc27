using System.Security.Cryptography.X509Certificates;

namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>
/// Judges a verified TDX quote's platform by Intel's collateral, as Intel's Quote Verification
/// Library does for TDX 1.0 (v4 quotes): the collateral's signatures and CRLs, the PCK certificate
/// and its CA not revoked, the TCB info of the platform's FMSPC and PCE, the TDX module's signer and
/// attributes, the highest TCB level the platform's SGX, PCE and TDX SVNs reach, the TDX module's own
/// level, the Quoting Enclave's identity and level, and the statuses converged into one.
/// </summary>
public static class TcbEvaluator
{
    /// <summary>How far a document's date may lie ahead of the portal's clock.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <exception cref="AttestationException">
    /// The collateral is not Intel's (signature, chain), not for this platform, not yet valid, or the
    /// PCK certificate or its CA is revoked; or the quote's module or QE is not what the collateral describes.
    /// </exception>
    public static TcbVerdict Evaluate(TdxQuote quote, TdxCollateral collateral, X509Certificate2 root, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(quote);
        ArgumentNullException.ThrowIfNull(collateral);
        ArgumentNullException.ThrowIfNull(root);
        var (tcbInfo, qeIdentity, pckCrl, rootCrl) = collateral;

        // The collateral itself: Intel's signatures, not from the future, and nothing it relies on revoked.
        if (!rootCrl.IsSignedBy(root))
        {
            throw new AttestationException("the root CA's revocation list is not signed by the trusted Intel root.");
        }

        foreach (var crl in new[] { rootCrl, pckCrl })
        {
            if (crl.ThisUpdate > now + ClockSkew)
            {
                throw new AttestationException($"a revocation list ({crl.Issuer}) is dated {crl.ThisUpdate:u}, in the future; check the portal's clock.");
            }
        }

        foreach (var document in new SignedCollateral[] { tcbInfo, qeIdentity })
        {
            document.VerifySignature(root, now);
            if (rootCrl.Revokes(document.Signer))
            {
                throw new AttestationException($"the {document.Name}'s TCB Signing certificate is revoked by Intel's root CA.");
            }

            if (document.IssueDate > now + ClockSkew)
            {
                throw new AttestationException($"the {document.Name} is dated {document.IssueDate:u}, in the future; check the portal's clock.");
            }
        }

        // The CA that issued the PCK certificate, as the chain to the root found it (not merely by name).
        var pck = quote.PckChain[0];
        var chain = CertificateChains.Verify(pck, quote.PckChain, root, now, "the quote's PCK certificate");
        var pckCa = chain.Length > 2 ? chain[1] : throw new AttestationException("the quote's PCK certificate is not issued by a PCK CA under the root.");
        if (!pckCrl.IsSignedBy(pckCa))
        {
            throw new AttestationException($"the PCK revocation list is issued by {pckCrl.Issuer}, not by the CA that issued this PCK certificate ({pckCa.Subject}).");
        }

        if (pckCrl.Revokes(pck))
        {
            throw new AttestationException("the platform's PCK certificate is revoked by Intel: its keys are compromised or it was retired.");
        }

        if (rootCrl.Revokes(pckCa))
        {
            throw new AttestationException($"the PCK certificate's CA ({pckCa.Subject}) is revoked by Intel's root CA.");
        }

        var platform = PckExtensions.Read(pck);
        if (platform.FmspcHex != tcbInfo.Fmspc || !platform.PceId.AsSpan().SequenceEqual(tcbInfo.PceId))
        {
            throw new AttestationException($"the TCB info is for FMSPC {tcbInfo.Fmspc}, but this platform is FMSPC {platform.FmspcHex}.");
        }

        // The TDX module: major version 0 is judged by the TCB levels alone; others by their identity's levels.
        var teeTcbSvn = quote.TeeTcbSvn;
        var major = teeTcbSvn[1];
        var module = tcbInfo.Module;
        if (major > 0)
        {
            var id = $"TDX_{major:X2}";
            module = tcbInfo.ModuleIdentities.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase))
                ?? throw new AttestationException($"the TCB info knows no TDX module {id}, which this platform runs.");
        }

        if (!quote.MrSignerSeam.AsSpan().SequenceEqual(module.MrSigner))
        {
            throw new AttestationException("the TDX module is not signed by the signer Intel's TCB info names (MRSIGNERSEAM differs).");
        }

        if (!Malformed.MatchesMasked(quote.SeamAttributes, module.AttributesMask, module.Attributes))
        {
            throw new AttestationException("the TDX module's attributes are not those Intel's TCB info allows (SEAMATTRIBUTES).");
        }

        var advisories = new List<string>();
        var level = MatchLevel(tcbInfo.Levels, platform, teeTcbSvn);
        if (level is null)
        {
            return Verdict(TcbStatus.TcbNotSupported, advisories, platform, null, collateral, now);
        }

        advisories.AddRange(level.AdvisoryIds);
        var status = level.Status;
        if (major > 0)
        {
            var moduleLevel = module.Levels.FirstOrDefault(l => teeTcbSvn[0] >= l.IsvSvn);
            if (moduleLevel is null)
            {
                return Verdict(TcbStatus.TcbNotSupported, advisories, platform, level.TcbDate, collateral, now);
            }

            if (moduleLevel.Status is not (TcbStatus.UpToDate or TcbStatus.OutOfDate or TcbStatus.Revoked))
            {
                throw new AttestationException($"the TCB info rates TDX module {module.Id} {moduleLevel.Status}, which Intel does not define for a module.");
            }

            advisories.AddRange(moduleLevel.AdvisoryIds);
            status = Converge(status, moduleLevel.Status);
        }

        var qeLevel = qeIdentity.Match(quote.QeReport);
        if (qeLevel is null)
        {
            return Verdict(TcbStatus.TcbNotSupported, advisories, platform, level.TcbDate, collateral, now);
        }

        // A Quoting Enclave is current, revoked, or else out of date (Intel's QVL reads every other status so).
        advisories.AddRange(qeLevel.AdvisoryIds);
        status = Converge(status, qeLevel.Status is TcbStatus.UpToDate or TcbStatus.Revoked ? qeLevel.Status : TcbStatus.OutOfDate);
        return Verdict(status, advisories, platform, level.TcbDate, collateral, now);
    }

    /// <summary>
    /// The highest level whose SGX components and PCESVN the PCK certificate reaches and whose TDX
    /// components the TD's TEE_TCB_SVN reaches (bytes 0 and 1 are the module's, judged by its identity
    /// when the module's major version is not 0).
    /// </summary>
    private static TcbLevel? MatchLevel(IReadOnlyList<TcbLevel> levels, PckExtensions platform, byte[] teeTcbSvn)
    {
        var start = teeTcbSvn[1] > 0 ? 2 : 0;
        foreach (var level in levels)
        {
            var sgx = platform.PceSvn >= level.PceSvn && Enumerable.Range(0, 16).All(i => platform.CpuSvnComponents[i] >= level.SgxComponents[i]);
            if (sgx && Enumerable.Range(start, 16 - start).All(i => teeTcbSvn[i] >= level.TdxComponents[i]))
            {
                return level;
            }
        }

        return null;
    }

    /// <summary>A platform status combined with its TDX module's or QE's (UpToDate, OutOfDate, Revoked, …).</summary>
    private static TcbStatus Converge(TcbStatus platform, TcbStatus other) => other switch
    {
        TcbStatus.Revoked => TcbStatus.Revoked,
        TcbStatus.OutOfDate or TcbStatus.OutOfDateConfigurationNeeded => platform switch
        {
            TcbStatus.UpToDate or TcbStatus.SWHardeningNeeded => TcbStatus.OutOfDate,
            TcbStatus.ConfigurationNeeded or TcbStatus.ConfigurationAndSWHardeningNeeded => TcbStatus.OutOfDateConfigurationNeeded,
            _ => platform,
        },
        _ => platform,
    };

    private static TcbVerdict Verdict(TcbStatus status, List<string> advisories, PckExtensions platform, DateTimeOffset? tcbDate, TdxCollateral collateral, DateTimeOffset now) =>
        new(status, [.. advisories.Distinct()], platform.FmspcHex, tcbDate, collateral.NextUpdate, now > collateral.NextUpdate);
}
