using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Sealing;
using Cocoon.Web.Features.Attestation.Collateral;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;

namespace Cocoon.Web.Features.Attestation;

/// <summary>What the portal concluded from an agent's evidence.</summary>
public sealed record VerifiedEnclave(byte[] PublicKey, EvidenceKind Kind, Guid? MeasurementSetId = null, string? TcbStatus = null);

/// <summary>
/// Checks the evidence an agent presents for its enclave key when it registers; either kind must bind
/// the agent, the enclave key and this connection's nonce. Development evidence must be signed with
/// the key the agent was paired with (the one on its OAuth client) and is accepted only in Development
/// unless <see cref="AttestationOptions.AllowDevelopmentEvidence"/> is set. A TDX quote must chain to
/// Intel's root, report an allowed measurement set, and come from a platform whose TCB Intel's
/// collateral rates as the policy allows.
/// </summary>
public sealed class EvidenceVerifier(
    IServiceScopeFactory scopes,
    IHostEnvironment environment,
    IOptions<AttestationOptions> options,
    TimeProvider clock)
{
    /// <summary>The root TDX quotes and Intel's collateral must chain to (a test root only in Development).</summary>
    public X509Certificate2 TdxRoot =>
        environment.IsDevelopment() && options.Value.TestTdxRootCertificatePem is { Length: > 0 } pem
            ? X509Certificate2.CreateFromPem(pem)
            : TdxQuoteVerifier.IntelRoot;

    /// <param name="agentId">The agent the evidence is for.</param>
    /// <param name="clientId">The agent's OAuth client, which holds the key it was paired with.</param>
    /// <param name="nonce">The nonce drawn for this connection.</param>
    /// <exception cref="AttestationException">The evidence is refused; the message says why.</exception>
    public async Task<VerifiedEnclave> VerifyAsync(Guid agentId, string? clientId, EnclaveEvidence evidence, byte[] nonce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        try
        {
            using var _ = Hpke.ImportPublic(evidence.PublicKey ?? []);
        }
        catch (SealedDataException ex)
        {
            throw new AttestationException($"its enclave key is not usable: {ex.Message}");
        }

        switch (evidence.Kind)
        {
            case EvidenceKind.Development:
                // Development alone takes it by default: Staging, Production and any other name are a
                // deployment someone relies on, where an unprotected agent needs an operator's explicit word.
                if (!environment.IsDevelopment() && !options.Value.AllowDevelopmentEvidence)
                {
                    throw new AttestationException(
                        $"this portal runs in {environment.EnvironmentName} and accepts only hardware attestation (Intel TDX); development evidence is refused. " +
                        $"An operator who accepts unprotected agents sets {AttestationOptions.Section}:AllowDevelopmentEvidence=true.");
                }

                using (var key = await CredentialKeyAsync(clientId, cancellationToken))
                {
                    DevelopmentEvidence.Verify(evidence, key, agentId, nonce, clock.GetUtcNow());
                }

                return new VerifiedEnclave(evidence.PublicKey!, EvidenceKind.Development, null);
            case EvidenceKind.Tdx:
                {
                    var root = TdxRoot;
                    var quote = TdxEvidence.Verify(evidence, root, clock.GetUtcNow(), agentId, nonce);
                    await using var scope = scopes.CreateAsyncScope();
                    var set = TdxMeasurements.Match(await scope.ServiceProvider.GetRequiredService<TdxMeasurements>().AllowedAsync(cancellationToken), quote);
                    var tcb = await scope.ServiceProvider.GetRequiredService<TdxCollateralService>().JudgeAsync(quote, root, cancellationToken);
                    return new VerifiedEnclave(evidence.PublicKey!, EvidenceKind.Tdx, set.Id, tcb.Status.ToString());
                }

            default:
                throw new AttestationException($"{evidence.Kind} evidence is not accepted by this portal.");
        }
    }

    /// <summary>The P-256 public key an agent was paired with (on its OAuth client): what its evidence and its signed output digests are checked against.</summary>
    /// <exception cref="AttestationException">The portal holds no such key.</exception>
    public async Task<ECDsa> CredentialKeyAsync(string? clientId, CancellationToken cancellationToken)
    {
        // The application manager is scoped; registration runs in the hub's singleton registry.
        await using var scope = scopes.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var application = clientId is null ? null : await applications.FindByClientIdAsync(clientId, cancellationToken);
        var jwks = application is null ? null : await applications.GetJsonWebKeySetAsync(application, cancellationToken);
        var jwk = jwks?.Keys.FirstOrDefault(k => k.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve && k.Crv == JsonWebKeyECTypes.P256)
            ?? throw new AttestationException("the portal holds no pairing key for this agent to check its evidence with.");
        return ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.X), Y = Base64UrlEncoder.DecodeBytes(jwk.Y) },
        });
    }
}
