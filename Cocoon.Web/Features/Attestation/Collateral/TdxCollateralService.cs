using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Attestation.Collateral;
using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Attestation.Collateral;

/// <summary>
/// Intel's collateral for judging TDX platforms: stored after verification (from a PCCS-compatible
/// service or an admin's upload), refreshed when missing or stale, and applied to each quote with the
/// admins' TCB policy. The portal cannot reach Intel itself.
/// </summary>
public sealed class TdxCollateralService(
    CocoonDbContext db,
    PccsClient pccs,
    IOptions<AttestationOptions> options,
    TimeProvider clock,
    ILogger<TdxCollateralService> logger)
{
    /// <summary>
    /// How long a document the PCCS failed to give is not asked for again by registrations, so an outage
    /// does not hold every TDX registration for the fetch timeouts (the hourly and the admin's refresh still ask).
    /// </summary>
    private static readonly TimeSpan FailedFetchBackoff = TimeSpan.FromMinutes(2);

    private static readonly ConcurrentDictionary<(CollateralKind, string), DateTimeOffset> FailedFetches = new();

    /// <summary>
    /// The TCB verdict for a verified quote, refused unless the platform's status is one the policy
    /// accepts and its collateral is current (or stale for less than <see cref="AttestationOptions.CollateralGrace"/>).
    /// </summary>
    /// <exception cref="AttestationException">Refused; the message says why and what an admin can do.</exception>
    public async Task<TcbVerdict> JudgeAsync(TdxQuote quote, X509Certificate2 root, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(quote);
        var needed = Needed(quote);
        var fmspc = needed[0].Fmspc;
        var now = clock.GetUtcNow();

        var stored = await LoadAsync(needed, cancellationToken);
        var wanted = needed.Where(n => (!stored.TryGetValue(n, out var d) || d.NextUpdate < now)
            && !(FailedFetches.TryGetValue(n, out var failed) && now - failed < FailedFetchBackoff)).ToList();
        if (wanted.Count > 0 && pccs.IsConfigured)
        {
            await RefreshAsync(wanted, root, cancellationToken);
            stored = await LoadAsync(needed, cancellationToken);
        }

        var missing = needed.Where(n => !stored.ContainsKey(n)).Select(n => n.Item1 == CollateralKind.TcbInfo ? $"TCB info for FMSPC {fmspc}" : Describe(n.Item1)).ToList();
        if (missing.Count > 0)
        {
            throw new AttestationException($"the portal holds no {string.Join(", ", missing)} to judge this platform's TCB by; an admin uploads Intel's collateral on Admin → TDX collateral" +
                (pccs.IsConfigured ? " (the configured PCCS did not provide it)." : $" or sets {AttestationOptions.Section}:PccsUrl."));
        }

        return await ApplyPolicyAsync(quote, Collateral(stored, needed), root, now, cancellationToken);
    }

    /// <summary>The verdict under the admins' policy and the stale-collateral grace; refused otherwise.</summary>
    private async Task<TcbVerdict> ApplyPolicyAsync(TdxQuote quote, TdxCollateral collateral, X509Certificate2 root, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var verdict = TcbEvaluator.Evaluate(quote, collateral, root, now);
        var fmspc = verdict.Fmspc;
        var grace = options.Value.CollateralGrace;
        if (verdict.Stale)
        {
            if (now > verdict.CollateralNextUpdate + grace)
            {
                throw new AttestationException($"Intel's collateral for this platform was due for renewal on {verdict.CollateralNextUpdate:u} and has not been refreshed; " +
                    "a newer TCB evaluation or revocation may exist. An admin refreshes it on Admin → TDX collateral.");
            }

            logger.LogWarning("TDX collateral for FMSPC {Fmspc} is stale since {NextUpdate:u}; accepted within the {Grace} grace", fmspc, verdict.CollateralNextUpdate, grace);
        }

        var accepted = await AcceptedStatusesAsync(cancellationToken);
        if (!accepted.Contains(verdict.Status))
        {
            var advisories = verdict.AdvisoryIds.Count > 0 ? $" (advisories {string.Join(", ", verdict.AdvisoryIds)})" : "";
            throw new AttestationException($"Intel rates this platform's TCB {verdict.Status}{advisories}; this portal accepts {string.Join(" or ", accepted)}. " +
                "The provider updates the platform's firmware and TDX module.");
        }

        return verdict;
    }

    /// <summary>Checks a document against the trusted root and stores it in place of the one it renews.</summary>
    /// <exception cref="InvalidCollateralException">It does not parse, is not Intel's, or is older than the one stored.</exception>
    public async Task<CollateralView> StoreAsync(byte[] body, string? issuerChainPem, string source, X509Certificate2 root, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var now = clock.GetUtcNow();
        TdxCollateralDocument document;
        try
        {
            document = Check(body, issuerChainPem ?? "", root, now);
        }
        catch (AttestationException ex)
        {
            throw new InvalidCollateralException($"This is not collateral the portal can use: {ex.Message}");
        }

        // One statement, so two stores at once (a refresh and an upload, two registrations) cannot
        // collide or roll back: the row changes only to a document at least as new as the one it holds.
        var kind = document.Kind.ToString();
        var stored = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO tdx_collateral (id, kind, fmspc, body, issuer_chain_pem, source, stored_at, issue_date, next_update, evaluation_data_number)
            VALUES ({document.Id}, {kind}, {document.Fmspc}, {document.Body}, {document.IssuerChainPem}, {source}, {now}, {document.IssueDate}, {document.NextUpdate}, {document.EvaluationDataNumber})
            ON CONFLICT (kind, fmspc) DO UPDATE SET
                body = excluded.body, issuer_chain_pem = excluded.issuer_chain_pem, source = excluded.source, stored_at = excluded.stored_at,
                issue_date = excluded.issue_date, next_update = excluded.next_update, evaluation_data_number = excluded.evaluation_data_number
            WHERE tdx_collateral.issue_date <= excluded.issue_date
              AND coalesce(tdx_collateral.evaluation_data_number, 0) <= coalesce(excluded.evaluation_data_number, 0)
            """, cancellationToken);
        if (stored == 0)
        {
            var newer = await db.Set<TdxCollateralDocument>().AsNoTracking().SingleAsync(d => d.Kind == document.Kind && d.Fmspc == document.Fmspc, cancellationToken);
            throw new InvalidCollateralException($"The portal already holds a newer {Describe(document.Kind)} (issued {newer.IssueDate:u}); an older one would roll back TCB evaluations or revocations.");
        }

        document.Source = source;
        logger.LogInformation("Stored TDX collateral {Kind} {Fmspc} issued {IssueDate:u}, next update {NextUpdate:u}, from {Source}",
            document.Kind, document.Fmspc, document.IssueDate, document.NextUpdate, source);
        await RejudgeAttestedAgentsAsync(root, cancellationToken);
        return View(document, now);
    }

    /// <summary>
    /// Judges every hardware-attested agent's quote again by the collateral now stored: a platform a
    /// newer CRL revokes or newer TCB info rates out of date loses its attestation (and its enclave key,
    /// so no grant is made to it) at once, not at its next registration.
    /// </summary>
    public async Task RejudgeAttestedAgentsAsync(X509Certificate2 root, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var attested = await db.Agents.AsNoTracking().Where(a => a.EvidenceKind == EvidenceKind.Tdx && a.EvidenceStatement != null)
            .Select(a => new { a.Id, a.Name, a.EvidenceStatement }).ToListAsync(cancellationToken);

        // Agents on one platform family share their collateral: read and parse it once per family.
        var collaterals = new Dictionary<string, TdxCollateral?>(StringComparer.Ordinal);
        foreach (var agent in attested)
        {
            string? refusal = null;
            try
            {
                var quote = TdxQuoteVerifier.Verify(agent.EvidenceStatement, root, now);
                var needed = Needed(quote);
                var family = string.Join("|", needed.Select(n => $"{n.Kind}:{n.Fmspc}"));
                if (!collaterals.TryGetValue(family, out var collateral))
                {
                    var stored = await LoadAsync(needed, cancellationToken);
                    collaterals[family] = collateral = needed.All(stored.ContainsKey) ? Collateral(stored, needed) : null;
                }

                if (collateral is not null)
                {
                    await ApplyPolicyAsync(quote, collateral, root, now, cancellationToken);
                }
            }
            catch (AttestationException ex)
            {
                refusal = ex.Message;
            }

            if (refusal is not null)
            {
                await db.Agents.Where(a => a.Id == agent.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(a => a.EnclavePublicKey, (byte[]?)null)
                    .SetProperty(a => a.EvidenceKind, (EvidenceKind?)null)
                    .SetProperty(a => a.MeasurementSetId, (Guid?)null)
                    .SetProperty(a => a.TcbStatus, (string?)null)
                    .SetProperty(a => a.AttestedAt, (DateTimeOffset?)null), cancellationToken);
                logger.LogWarning("Agent {Name} ({AgentId}) lost its TDX attestation under the new collateral: {Reason}", agent.Name, agent.Id, refusal);
            }
        }
    }

    /// <summary>The four documents that judge a quote's platform: TCB info for its FMSPC, the QE identity, its PCK CA's CRL, the root's CRL.</summary>
    private static (CollateralKind Kind, string Fmspc)[] Needed(TdxQuote quote)
    {
        var pck = quote.PckChain[0];
        var pckCrl = CertificateChains.IsProcessorCa(pck.IssuerName) ? CollateralKind.PckCrlProcessor : CollateralKind.PckCrlPlatform;
        return [(CollateralKind.TcbInfo, PckExtensions.Read(pck).FmspcHex), (CollateralKind.QeIdentity, ""), (pckCrl, ""), (CollateralKind.RootCrl, "")];
    }

    private static TdxCollateral Collateral(Dictionary<(CollateralKind, string), TdxCollateralDocument> stored, (CollateralKind, string)[] needed) => new(
        TcbInfo.Parse(stored[needed[0]].Body, stored[needed[0]].IssuerChainPem),
        QeIdentity.Parse(stored[needed[1]].Body, stored[needed[1]].IssuerChainPem),
        RevocationList.Parse(stored[needed[2]].Body),
        RevocationList.Parse(stored[needed[3]].Body));

    /// <summary>
    /// Fetches every document the portal uses (TCB info for each FMSPC it has seen) from the PCCS and
    /// stores those that verify. Returns what went wrong, one line per document; empty when all did.
    /// </summary>
    public async Task<IReadOnlyList<string>> RefreshAllAsync(X509Certificate2 root, CancellationToken cancellationToken)
    {
        var fmspcs = await db.Set<TdxCollateralDocument>().Where(d => d.Kind == CollateralKind.TcbInfo).Select(d => d.Fmspc).ToListAsync(cancellationToken);
        return await RefreshAsync(
            [.. fmspcs.Select(f => (CollateralKind.TcbInfo, f)), (CollateralKind.QeIdentity, ""), (CollateralKind.PckCrlPlatform, ""), (CollateralKind.PckCrlProcessor, ""), (CollateralKind.RootCrl, "")],
            root, cancellationToken);
    }

    public async Task<CollateralOverview> OverviewAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var documents = await db.Set<TdxCollateralDocument>().AsNoTracking().OrderBy(d => d.Kind).ThenBy(d => d.Fmspc).ToListAsync(cancellationToken);
        var policy = await db.Set<AttestationPolicy>().AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        return new CollateralOverview([.. documents.Select(d => View(d, now))], policy?.AcceptSwHardeningNeeded ?? false, pccs.BaseUrl, options.Value.CollateralGrace);
    }

    /// <summary>Sets the TCB policy; agents attested under the old one are judged again at once.</summary>
    public async Task SetPolicyAsync(bool acceptSwHardeningNeeded, Guid byAccountId, X509Certificate2 root, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO attestation_policy (id, accept_sw_hardening_needed, changed_by_account_id, changed_at) VALUES (1, {acceptSwHardeningNeeded}, {byAccountId}, {now})
            ON CONFLICT (id) DO UPDATE SET accept_sw_hardening_needed = excluded.accept_sw_hardening_needed,
                changed_by_account_id = excluded.changed_by_account_id, changed_at = excluded.changed_at
            """, cancellationToken);
        logger.LogWarning("TDX TCB policy set by account {Account}: SWHardeningNeeded {Accepted}", byAccountId, acceptSwHardeningNeeded ? "accepted" : "refused");
        await RejudgeAttestedAgentsAsync(root, cancellationToken);
    }

    private async Task<HashSet<TcbStatus>> AcceptedStatusesAsync(CancellationToken cancellationToken)
    {
        var policy = await db.Set<AttestationPolicy>().AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        return policy?.AcceptSwHardeningNeeded == true ? [TcbStatus.UpToDate, TcbStatus.SWHardeningNeeded] : [TcbStatus.UpToDate];
    }

    private async Task<Dictionary<(CollateralKind, string), TdxCollateralDocument>> LoadAsync(IEnumerable<(CollateralKind Kind, string Fmspc)> keys, CancellationToken cancellationToken)
    {
        var kinds = keys.Select(k => k.Kind).ToList();
        var fmspcs = keys.Select(k => k.Fmspc).ToList();
        var documents = await db.Set<TdxCollateralDocument>().AsNoTracking().Where(d => kinds.Contains(d.Kind) && fmspcs.Contains(d.Fmspc)).ToListAsync(cancellationToken);
        return documents.ToDictionary(d => (d.Kind, d.Fmspc));
    }

    private async Task<IReadOnlyList<string>> RefreshAsync(IReadOnlyList<(CollateralKind Kind, string Fmspc)> wanted, X509Certificate2 root, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var (kind, fmspc) in wanted)
        {
            try
            {
                var (body, chain) = await pccs.FetchAsync(kind, fmspc, cancellationToken);
                await StoreAsync(body, chain, $"PCCS {pccs.BaseUrl}", root, cancellationToken);
                FailedFetches.TryRemove((kind, fmspc), out _);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidCollateralException or UriFormatException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                FailedFetches[(kind, fmspc)] = clock.GetUtcNow();
                logger.LogWarning("Could not refresh TDX collateral {Kind} {Fmspc} from {Pccs}: {Reason}", kind, fmspc, pccs.BaseUrl, ex.Message);
                problems.Add($"{Describe(kind)}{(fmspc.Length > 0 ? " " + fmspc : "")}: {ex.Message}");
            }
        }

        return problems;
    }

    /// <summary>Recognises and verifies a document: what it is, whom it covers, its dates.</summary>
    private static TdxCollateralDocument Check(byte[] body, string chainPem, X509Certificate2 root, DateTimeOffset now)
    {
        var text = Encoding.UTF8.GetString(body).TrimStart();
        if (text.StartsWith('{'))
        {
            SignedCollateral signed = text.Contains("\"tcbInfo\"", StringComparison.Ordinal) ? TcbInfo.Parse(body, chainPem) : QeIdentity.Parse(body, chainPem);
            signed.VerifySignature(root, now);
            return new TdxCollateralDocument
            {
                Id = Guid.CreateVersion7(),
                Kind = signed is TcbInfo ? CollateralKind.TcbInfo : CollateralKind.QeIdentity,
                Fmspc = (signed as TcbInfo)?.Fmspc ?? "",
                Body = body,
                IssuerChainPem = chainPem,
                Source = "",
                StoredAt = now,
                IssueDate = signed.IssueDate,
                NextUpdate = signed.NextUpdate,
                EvaluationDataNumber = signed.EvaluationDataNumber,
            };
        }

        var crl = RevocationList.Parse(body);
        CollateralKind kind;
        if (crl.IsSignedBy(root))
        {
            kind = CollateralKind.RootCrl;
            chainPem = "";
        }
        else
        {
            var chain = CertificateChains.ImportPem(chainPem, "the CRL's issuer chain");
            var issuer = chain.FirstOrDefault(crl.IsSignedBy)
                ?? throw new AttestationException($"the CRL is issued by {crl.Issuer}, and neither the trusted root nor its issuer chain signed it.");
            CertificateChains.Verify(issuer, chain, root, now, "the CRL's issuer");
            kind = CertificateChains.IsProcessorCa(issuer.SubjectName) ? CollateralKind.PckCrlProcessor
                : issuer.SubjectName.Name.Contains("Platform", StringComparison.Ordinal) ? CollateralKind.PckCrlPlatform
                : throw new AttestationException($"the CRL is issued by {issuer.Subject}, which is not a PCK Platform or Processor CA.");
        }

        return new TdxCollateralDocument
        {
            Id = Guid.CreateVersion7(),
            Kind = kind,
            Fmspc = "",
            Body = crl.Der,
            IssuerChainPem = chainPem,
            Source = "",
            StoredAt = now,
            IssueDate = crl.ThisUpdate,
            NextUpdate = crl.NextUpdate,
        };
    }

    private static CollateralView View(TdxCollateralDocument d, DateTimeOffset now) =>
        new(d.Id, d.Kind, d.Fmspc, d.Source, d.StoredAt, d.IssueDate, d.NextUpdate, d.EvaluationDataNumber, d.NextUpdate < now);

    /// <summary>What an admin typed or uploaded as bytes: JSON and PEM or hex CRLs as text, anything else as base64 of DER.</summary>
    /// <exception cref="InvalidCollateralException">It is none of those.</exception>
    public static byte[] DecodeUpload(string? document)
    {
        var text = (document ?? "").Trim();
        if (text.Length == 0)
        {
            throw new InvalidCollateralException("Paste or upload a collateral document: TCB info or QE identity JSON, or a CRL (PEM, hex or base64 of DER).");
        }

        if (text.StartsWith('{') || text.StartsWith("-----BEGIN", StringComparison.Ordinal) || text.All(char.IsAsciiHexDigit))
        {
            return Encoding.UTF8.GetBytes(text);
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

    /// <summary>A kind in words.</summary>
    public static string Describe(CollateralKind kind) => kind switch
    {
        CollateralKind.TcbInfo => "TCB info",
        CollateralKind.QeIdentity => "TD QE identity",
        CollateralKind.PckCrlPlatform => "PCK Platform CA CRL",
        CollateralKind.PckCrlProcessor => "PCK Processor CA CRL",
        _ => "root CA CRL",
    };
}
