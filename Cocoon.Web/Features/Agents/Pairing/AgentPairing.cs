using System.Security.Cryptography;
using Cocoon.Shared.Pairing;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Hosting.Live;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Cocoon.Web.Features.Agents.Pairing;

/// <summary>
/// Binds an agent to a provider: an agent row plus an OAuth client that holds the agent's public key,
/// so the agent authenticates with private_key_jwt. Revoking removes the client, revokes its tokens
/// and closes its connections.
/// </summary>
public sealed class AgentPairing(
    CocoonDbContext db,
    IOpenIddictApplicationManager applications,
    IOpenIddictTokenManager tokens,
    AgentConnections connections,
    IAgentWork work,
    LiveUpdates live,
    TimeProvider clock,
    ILogger<AgentPairing> logger)
{
    /// <summary>Checks a pairing request's name and key without recording anything.</summary>
    /// <exception cref="InvalidPairingException">What is wrong with it.</exception>
    public static void Check(PairAgentRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Name?.Trim() is not { Length: > 0 and <= 100 })
        {
            throw new InvalidPairingException("name must be 1 to 100 characters.");
        }

        PublicKey(request);
    }

    public async Task<PairAgentResponse> PairAsync(Guid? ownerAccountId, PairAgentRequest request, CancellationToken cancellationToken)
    {
        Check(request);
        var name = request.Name.Trim();
        var key = PublicKey(request);
        var agentId = Guid.NewGuid();
        var clientId = $"agent-{agentId:N}";
        var now = clock.GetUtcNow();
        var jwks = new JsonWebKeySet();
        jwks.Keys.Add(key);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Agents.Add(new RegisteredAgent
        {
            Id = agentId,
            Name = name,
            DeviceName = "",
            AgentVersion = "",
            FirstSeenAt = now,
            OwnerAccountId = ownerAccountId,
            ClientId = clientId,
            PairedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = ClientTypes.Confidential,
            DisplayName = $"Agent {name}",
            JsonWebKeySet = jwks,
            Permissions =
            {
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.ClientCredentials,
                Permissions.Prefixes.Scope + OAuthServer.AgentScope,
            },
        }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Agent {Name} ({AgentId}) paired with account {Owner}", name, agentId, ownerAccountId?.ToString() ?? "(portal)");
        live.AgentsChanged();
        return new PairAgentResponse { AgentId = agentId, ClientId = clientId };
    }

    /// <summary>Returns a quarantined agent to work (its owner, after a fix, or an admin); its earlier failures no longer count.</summary>
    public async Task ReturnToWorkAsync(Guid agentId, Guid? byAccountId, bool byAdmin, CancellationToken cancellationToken)
    {
        var agent = await db.Agents.SingleOrDefaultAsync(a => a.Id == agentId && (byAdmin || (a.OwnerAccountId != null && a.OwnerAccountId == byAccountId)), cancellationToken)
            ?? throw new AgentNotFoundException(agentId);
        if (agent.QuarantinedAt is null)
        {
            return;
        }

        logger.LogInformation("Agent {AgentId} returned to work (quarantined for: {Reason})", agentId, agent.QuarantineReason);
        agent.QuarantinedAt = null;
        agent.QuarantineReason = null;
        agent.QuarantineLiftedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        live.AgentsChanged();
        await work.CapacityChangedAsync(cancellationToken);
    }

    /// <summary>Revokes an agent's pairing. Owners may revoke their own agents, admins any.</summary>
    public async Task RevokeAsync(Guid agentId, Guid? byAccountId, bool byAdmin, CancellationToken cancellationToken)
    {
        var agent = await db.Agents.SingleOrDefaultAsync(a => a.Id == agentId, cancellationToken)
            ?? throw new AgentNotFoundException(agentId);
        if (!byAdmin && (agent.OwnerAccountId is null || agent.OwnerAccountId != byAccountId))
        {
            // Not found rather than forbidden: other providers' agents are not theirs to know about.
            throw new AgentNotFoundException(agentId);
        }

        if (agent.RevokedAt is null)
        {
            agent.RevokedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }

        if (agent.ClientId is not null && await applications.FindByClientIdAsync(agent.ClientId, cancellationToken) is { } application)
        {
            var applicationId = await applications.GetIdAsync(application, cancellationToken);
            if (applicationId is not null)
            {
                await tokens.RevokeByApplicationIdAsync(applicationId, cancellationToken);
            }

            await applications.DeleteAsync(application, cancellationToken);
        }

        var closed = connections.Abort(agentId);
        logger.LogWarning("Agent {Name} ({AgentId}) revoked by {By}; {Closed} connection(s) closed", agent.Name, agentId, byAccountId, closed);
        live.AgentsChanged();
    }

    private static JsonWebKey PublicKey(PairAgentRequest request)
    {
        try
        {
            var x = Base64UrlEncoder.DecodeBytes(request.KeyX);
            var y = Base64UrlEncoder.DecodeBytes(request.KeyY);
            // Importing checks that the point is on P-256.
            using var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
            return new JsonWebKey
            {
                Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve,
                Crv = JsonWebKeyECTypes.P256,
                X = request.KeyX,
                Y = request.KeyY,
                Use = JsonWebKeyUseNames.Sig,
                Alg = SecurityAlgorithms.EcdsaSha256,
            };
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException)
        {
            throw new InvalidPairingException("keyX and keyY must be the base64url coordinates of a P-256 public key.");
        }
    }
}
