using Cocoon.Web.Features.Identity;

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

    public async Task BecomeProviderAsync(Guid accountId)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AccountService>().BecomeProviderAsync(accountId, CancellationToken.None);
    }
}
