using Cocoon.Shared;
using Cocoon.Shared.Agents;

namespace Cocoon.Web.Features.Agents;

public static class AgentsModule
{
    public static void AddCocoonAgents(this WebApplicationBuilder builder)
    {
        builder.Services.AddSignalR()
            .AddJsonProtocol(o => o.PayloadSerializerOptions.TypeInfoResolverChain.Insert(0, CocoonJsonContext.Default));
        builder.Services.AddSingleton<AgentRegistry>();
        builder.Services.AddSingleton<AgentQueries>();
    }

    public static void MapCocoonAgents(this WebApplication app)
    {
        app.MapHub<AgentHub>(AgentProtocol.HubPath);
        app.MapGet("/api/agents", async (AgentQueries agents, CancellationToken ct) => TypedResults.Ok(await agents.ListAsync(ct)))
            .WithName("ListAgents")
            .RequireAuthorization(Identity.CocoonPolicies.AgentsRead)
            .Produces<IReadOnlyList<AgentView>>();
    }
}
