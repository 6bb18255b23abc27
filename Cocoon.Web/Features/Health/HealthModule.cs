namespace Cocoon.Web.Features.Health;

/// <summary>Whether the portal can take and run work, for load balancers and the quick start.</summary>
public static class HealthModule
{
    public static void MapCocoonHealth(this WebApplication app) => app.MapHealthEndpoints();
}
