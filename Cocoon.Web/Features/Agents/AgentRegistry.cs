using System.Security.Cryptography;
using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Attestation;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Attestation;
using Cocoon.Web.Hosting.Live;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Agents;

/// <summary>A nonce drawn for one connection, and when.</summary>
public sealed record IssuedChallenge(byte[] Nonce, DateTimeOffset IssuedAt);

/// <summary>Agents coming, staying and going: registration (the protocol handshake), heartbeats, disconnects.</summary>
public sealed class AgentRegistry(
    IDbContextFactory<CocoonDbContext> dbFactory,
    IAgentWork work,
    EvidenceVerifier evidence,
    LiveUpdates live,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    IOptions<AgentLinkOptions> options,
    ILogger<AgentRegistry> logger)
{
    private static readonly string PortalVersion = typeof(AgentRegistry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>How long a connection's nonce may wait for the registration that answers it.</summary>
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(2);

    /// <summary>A fresh nonce for one connection's registration.</summary>
    public IssuedChallenge NewChallenge() => new(RandomNumberGenerator.GetBytes(EvidenceBinding.NonceLength), clock.GetUtcNow());

    public async Task<AgentWelcome> RegisterAsync(AgentHello hello, IssuedChallenge? challenge, string connectionId, CancellationToken cancellationToken)
    {
        if (hello.ProtocolVersion != AgentProtocol.Version)
        {
            var side = hello.ProtocolVersion < AgentProtocol.Version ? "update the agent" : "update the portal";
            logger.LogWarning("Refused agent {Name} ({AgentId}): it speaks protocol {Theirs}, this portal speaks {Ours}",
                hello.Name, hello.AgentId, hello.ProtocolVersion, AgentProtocol.Version);
            throw new HubException(
                $"{AgentProtocol.RefusalPrefix}it speaks agent protocol {hello.ProtocolVersion} but this portal speaks {AgentProtocol.Version}; {side}.");
        }

        var now = clock.GetUtcNow();
        List<Guid> resumed;
        List<Guid> forgotten;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            // Agents exist from the moment they are paired; the hub has already matched the token to this id.
            var agent = await db.Agents.SingleOrDefaultAsync(a => a.Id == hello.AgentId, cancellationToken);
            if (agent is null || agent.RevokedAt is not null)
            {
                throw new HubException($"{AgentProtocol.RefusalPrefix}this agent's pairing was revoked; pair it again with cocoon-agent pair.");
            }

            if (await AttestAsync(agent, hello, challenge, now, cancellationToken) is { } refusal)
            {
                // Refused evidence leaves nothing of an earlier attestation behind: no grant goes to the old key.
                ClearAttestation(agent);
                await db.SaveChangesAsync(cancellationToken);
                throw new HubException($"{AgentProtocol.RefusalPrefix}its enclave evidence was refused: {refusal}");
            }

            agent.Name = hello.Name;
            agent.DeviceName = hello.Device.Name;
            agent.DeviceKind = hello.Device.Kind;
            agent.MemoryBytes = hello.Device.MemoryBytes;
            agent.ComputeUnits = hello.Device.ComputeUnits;
            agent.Capacity = Math.Clamp(hello.Capacity, 1, 64);
            agent.AgentVersion = hello.AgentVersion;
            agent.ProtocolVersion = hello.ProtocolVersion;
            agent.ConnectionId = connectionId;
            agent.ConnectedAt = now;
            agent.LastHeartbeatAt = now;
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.ForeignKeyViolation })
            {
                // The measurement set it matched was removed while it registered.
                throw new HubException($"{AgentProtocol.RefusalPrefix}its enclave evidence was refused: the measurement set it matched was just removed from the allow-list.");
            }

            var active = await db.Leases.Where(l => l.AgentId == hello.AgentId && l.EndedAt == null).Select(l => l.Id).ToListAsync(cancellationToken);
            resumed = [.. active.Intersect(hello.HeldLeases)];
            forgotten = [.. active.Except(hello.HeldLeases)];
            var expires = now + options.Value.Lease;
            await db.Leases.Where(l => resumed.Contains(l.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, expires), cancellationToken);
        }

        // Leases the agent no longer knows (it restarted, or a push was lost) would otherwise wait for expiry.
        foreach (var leaseId in forgotten)
        {
            await work.LeaseLostAsync(leaseId, hello.AgentId, "The agent reconnected without this lease.", cancellationToken);
        }

        logger.LogInformation("Agent {Name} ({AgentId}) registered on {Kind} device {Device}, capacity {Capacity}",
            hello.Name, hello.AgentId, hello.Device.Kind, hello.Device.Name, hello.Capacity);
        live.AgentsChanged();
        await work.CapacityChangedAsync(cancellationToken);
        return new AgentWelcome { PortalVersion = PortalVersion, HeartbeatSeconds = options.Value.HeartbeatSeconds, ResumedLeases = resumed };
    }

    /// <summary>Checks the enclave evidence and records what it proved; returns why it was refused (the agent then stops and says so), or null.</summary>
    private async Task<string?> AttestAsync(RegisteredAgent agent, AgentHello hello, IssuedChallenge? challenge, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (hello.Enclave is null)
        {
            ClearAttestation(agent);
            return null;
        }

        VerifiedEnclave verified;
        try
        {
            if (challenge is null || now - challenge.IssuedAt > ChallengeLifetime)
            {
                throw new AttestationException(challenge is null
                    ? "it presented evidence without asking this connection's nonce first (ChallengeAsync); evidence must bind a fresh nonce."
                    : $"its nonce is older than {ChallengeLifetime.TotalMinutes:N0} minutes; ask for a new one.");
            }

            verified = await evidence.VerifyAsync(agent.Id, agent.ClientId, hello.Enclave, challenge.Nonce, cancellationToken);
        }
        catch (AttestationException ex)
        {
            logger.LogWarning("Refused agent {Name} ({AgentId}): its enclave evidence does not hold: {Reason}", hello.Name, hello.AgentId, ex.Message);
            return ex.Message;
        }

        agent.EnclavePublicKey = verified.PublicKey;
        agent.EvidenceKind = verified.Kind;
        agent.EvidenceStatement = hello.Enclave.Statement;
        agent.EvidenceSignature = hello.Enclave.Signature;
        agent.MeasurementSetId = verified.MeasurementSetId;
        agent.TcbStatus = verified.TcbStatus;
        agent.AttestedAt = now;
        return null;
    }

    private static void ClearAttestation(RegisteredAgent agent)
    {
        agent.EnclavePublicKey = null;
        agent.EvidenceKind = null;
        agent.EvidenceStatement = agent.EvidenceSignature = null;
        agent.MeasurementSetId = null;
        agent.TcbStatus = null;
        agent.AttestedAt = null;
    }

    /// <summary>Stores an agent's self-reported benchmark score; an impossible one is refused.</summary>
    public async Task RecordBenchmarkAsync(Guid agentId, AgentBenchmark benchmark, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(benchmark);
        if (!double.IsFinite(benchmark.Score) || benchmark.Score <= 0 || benchmark.Score > 1e6)
        {
            throw new HubException($"A benchmark score of {benchmark.Score} GFLOP/s is not believable.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        await db.Agents.Where(a => a.Id == agentId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.BenchmarkScore, benchmark.Score).SetProperty(a => a.BenchmarkedAt, now), cancellationToken);
        logger.LogInformation("Agent {AgentId} benchmarked itself at {Score:N1} GFLOP/s on {Device}", agentId, benchmark.Score, benchmark.Device);
        live.AgentsChanged();
    }

    public async Task HeartbeatAsync(Guid agentId, string connectionId, AgentHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        await db.Agents.Where(a => a.Id == agentId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.LastHeartbeatAt, now).SetProperty(a => a.ConnectionId, connectionId), cancellationToken);
        if (heartbeat.ActiveLeases.Count > 0)
        {
            var expires = now + options.Value.Lease;
            var held = heartbeat.ActiveLeases.ToList();
            await db.Leases.Where(l => l.AgentId == agentId && l.EndedAt == null && held.Contains(l.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, expires), cancellationToken);
        }

        live.AgentsChanged();
    }

    public async Task DisconnectedAsync(Guid agentId, string connectionId)
    {
        List<Guid> leases;
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            var updated = await db.Agents.Where(a => a.Id == agentId && a.ConnectionId == connectionId)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.ConnectionId, (string?)null));
            live.AgentsChanged();
            // While the portal itself stops, agents are expected back after the restart with their leases.
            if (updated == 0 || lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return;
            }

            leases = await db.Leases.Where(l => l.AgentId == agentId && l.EndedAt == null).Select(l => l.Id).ToListAsync();
        }

        logger.LogWarning("Agent {AgentId} disconnected holding {Count} lease(s); re-queuing them", agentId, leases.Count);
        foreach (var leaseId in leases)
        {
            await work.LeaseLostAsync(leaseId, agentId, "The agent disconnected.", CancellationToken.None);
        }

        await work.CapacityChangedAsync();
    }
}
