using Cocoon.Shared.Agents;
using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Agents;

/// <summary>Agents as the pages and the API show them.</summary>
public sealed class AgentQueries(IDbContextFactory<CocoonDbContext> dbFactory, TimeProvider clock, IOptions<AgentLinkOptions> options)
{
    public async Task<IReadOnlyList<AgentView>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var onlineSince = clock.GetUtcNow() - options.Value.AgentTimeout;
        var reputations = await db.Database.SqlQuery<Reputation>($"SELECT agent_id, finished, score FROM agent_reputations").ToDictionaryAsync(r => r.AgentId, cancellationToken);
        var agents = await db.Agents.AsNoTracking()
            .OrderBy(a => a.RevokedAt != null)
            .ThenByDescending(a => a.ConnectionId != null)
            .ThenBy(a => a.Name)
            .Select(a => new AgentView
            {
                Id = a.Id,
                Name = a.Name,
                Online = a.ConnectionId != null && a.LastHeartbeatAt > onlineSince,
                DeviceName = a.DeviceName,
                DeviceKind = a.DeviceKind,
                MemoryBytes = a.MemoryBytes,
                ComputeUnits = a.ComputeUnits,
                Capacity = a.Capacity,
                ActiveUnits = db.Leases.Count(l => l.AgentId == a.Id && l.EndedAt == null),
                LastHeartbeatAt = a.LastHeartbeatAt,
                Owner = db.Set<Identity.Account>().Where(o => o.Id == a.OwnerAccountId).Select(o => o.FriendlyAddress).FirstOrDefault(),
                PairedAt = a.PairedAt,
                RevokedAt = a.RevokedAt,
                EnclaveKey = a.EnclavePublicKey,
                Evidence = a.EvidenceKind,
                AttestedAt = a.AttestedAt,
                BenchmarkScore = a.BenchmarkScore,
                QuarantineReason = a.QuarantineReason,
            })
            .ToListAsync(cancellationToken);
        return [.. agents.Select(a => reputations.TryGetValue(a.Id, out var r) ? a with { Reputation = r.Score, ReputationUnits = r.Finished } : a)];
    }

    /// <summary>A row of the agent_reputations view.</summary>
    private sealed record Reputation(Guid AgentId, int Finished, double Score);

    /// <summary>The agents a developer may grant a job's keys to: online, paired, with an enclave key.</summary>
    public async Task<IReadOnlyList<AgentView>> GrantCandidatesAsync(CancellationToken cancellationToken = default) =>
        [.. (await ListAsync(cancellationToken)).Where(a => a.Online && a.RevokedAt is null && a.EnclaveKey is not null)];

    public async Task<Dictionary<Guid, string>> NamesAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Agents.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
    }

    public async Task<int> CountOnlineAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var onlineSince = clock.GetUtcNow() - options.Value.AgentTimeout;
        return await db.Agents.CountAsync(a => a.ConnectionId != null && a.LastHeartbeatAt > onlineSince, cancellationToken);
    }
}
