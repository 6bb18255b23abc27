namespace Cocoon.Web.Features.Attestation.Collateral;

/// <summary>Which of Intel's collateral documents a stored one is.</summary>
public enum CollateralKind
{
    /// <summary>TCB info for one FMSPC (JSON, signed by Intel's TCB Signing key).</summary>
    TcbInfo,

    /// <summary>The TD Quoting Enclave's identity (JSON, signed by Intel's TCB Signing key).</summary>
    QeIdentity,

    /// <summary>CRL of Intel SGX PCK Platform CA.</summary>
    PckCrlPlatform,

    /// <summary>CRL of Intel SGX PCK Processor CA.</summary>
    PckCrlProcessor,

    /// <summary>CRL of Intel SGX Root CA.</summary>
    RootCrl,
}

/// <summary>
/// One collateral document as the portal last received it, verified against the trusted root before it
/// was stored. One per kind (and per FMSPC for TCB info); a newer one replaces it.
/// </summary>
public sealed class TdxCollateralDocument
{
    public Guid Id { get; set; }

    public CollateralKind Kind { get; set; }

    /// <summary>TCB info: the FMSPC it covers (12 lower-case hex digits); empty for the others.</summary>
    public required string Fmspc { get; set; }

    /// <summary>The document as served (JSON, or a CRL as DER).</summary>
    public required byte[] Body { get; set; }

    /// <summary>The issuer chain (PEM) that came with it; empty for the root CA's CRL.</summary>
    public required string IssuerChainPem { get; set; }

    /// <summary>Where it came from: "PCCS https://…" or "uploaded by UQ…".</summary>
    public required string Source { get; set; }

    public DateTimeOffset StoredAt { get; set; }

    public DateTimeOffset IssueDate { get; set; }

    /// <summary>When Intel will have issued the next one (CRLs: their nextUpdate); past it the document is stale.</summary>
    public DateTimeOffset NextUpdate { get; set; }

    /// <summary>TCB info and QE identity: Intel's TCB evaluation data number (an older one never replaces a newer).</summary>
    public int? EvaluationDataNumber { get; set; }
}

/// <summary>The policy admins set for TDX platforms' TCB status (one row).</summary>
public sealed class AttestationPolicy
{
    public int Id { get; set; } = 1;

    /// <summary>Besides UpToDate, accept platforms Intel rates SWHardeningNeeded (current, with advisories the TD's software must mitigate).</summary>
    public bool AcceptSwHardeningNeeded { get; set; }

    public Guid? ChangedByAccountId { get; set; }

    public DateTimeOffset? ChangedAt { get; set; }
}

/// <summary>A stored document as the admin page shows it.</summary>
public sealed record CollateralView(Guid Id, CollateralKind Kind, string Fmspc, string Source, DateTimeOffset StoredAt, DateTimeOffset IssueDate, DateTimeOffset NextUpdate, int? EvaluationDataNumber, bool Stale);

/// <summary>The collateral page's state: documents, policy and where collateral comes from.</summary>
public sealed record CollateralOverview(IReadOnlyList<CollateralView> Documents, bool AcceptSwHardeningNeeded, string? PccsUrl, TimeSpan StaleGrace);

/// <summary>An admin's upload: a collateral document (JSON text, a CRL as PEM or hex, or base64 of DER) and the issuer chain PCS sent with it.</summary>
public sealed record UploadCollateralRequest(string? Document, string? IssuerChain);

/// <summary>A collateral document the portal will not store; the message says why.</summary>
public sealed class InvalidCollateralException(string message) : Exception(message);
