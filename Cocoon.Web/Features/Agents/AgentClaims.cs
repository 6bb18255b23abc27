using System.Security.Claims;

namespace Cocoon.Web.Features.Agents;

/// <summary>The claim in a paired agent's access token that names the agent.</summary>
public static class AgentClaims
{
    public const string Agent = "cocoon_agent";

    public static Guid? AgentId(ClaimsPrincipal? user) =>
        Guid.TryParse(user?.FindFirst(Agent)?.Value, out var id) ? id : null;
}
