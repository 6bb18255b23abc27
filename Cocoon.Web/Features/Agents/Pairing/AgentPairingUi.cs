using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Agents.Pairing;

/// <summary>Pairing actions for pages: a circuit lives long, so each action gets its own scope (and DbContext).</summary>
public sealed class AgentPairingUi(IServiceScopeFactory scopes)
{
    public async Task ReturnToWorkAsync(Guid agentId, Viewer viewer)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AgentPairing>().ReturnToWorkAsync(agentId, viewer.AccountId, viewer.IsAdmin, CancellationToken.None);
    }

    public async Task RevokeAsync(Guid agentId, Viewer viewer)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AgentPairing>().RevokeAsync(agentId, viewer.AccountId, viewer.IsAdmin, CancellationToken.None);
    }

    /// <summary>What the agent that made <paramref name="userCode"/> said about itself, and where it asked from; null when the code is unknown or expired.</summary>
    public async Task<PairingRequestView?> FindRequestAsync(string? userCode, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var code = PairingRequest.Normalize(userCode);
        if (code.Length == 0)
        {
            return null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var now = clock.GetUtcNow();
        return await scope.ServiceProvider.GetRequiredService<CocoonDbContext>().Set<PairingRequest>().AsNoTracking()
            .Where(r => r.UserCode == code && r.ExpiresAt > now)
            .OrderByDescending(r => r.RequestedAt)
            .Select(r => new PairingRequestView(r.AgentName, r.Machine, r.Device, r.AgentVersion, r.RequestedFrom, r.RequestedAt, r.ExpiresAt))
            .FirstOrDefaultAsync();
    }

    public async Task BecomeProviderAsync(Guid accountId)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AccountService>().BecomeProviderAsync(accountId, CancellationToken.None);
    }
}
