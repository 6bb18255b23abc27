using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Web.Features.Identity;

namespace Cocoon.Web.Features.Agents;

/// <summary>The agents' hub and /api/agents (the list the Agents page shows).</summary>
public static class AgentsEndpoints
{
    public static void MapAgentsEndpoints(this WebApplication app)
    {
        app.MapHub<AgentHub>(AgentProtocol.HubPath);
        app.MapGet("/api/agents", async (AgentQueries agents, CancellationToken ct) => TypedResults.Ok(await agents.ListAsync(ct)))
            .WithName("ListAgents")
            .RequireAuthorization(CocoonPolicies.AgentsRead)
            .Produces<IReadOnlyList<AgentView>>();
    }
}
