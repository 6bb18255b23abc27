using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Health;

public static class HealthEndpoints
{
    /// <summary>
    /// GET /healthz: the database, the Hangfire servers and the agents online, as JSON; 200 when the
    /// portal can take and run work, 503 when the database or every Hangfire server is down.
    /// </summary>
    public static void MapHealthEndpoints(this WebApplication app) =>
        app.MapGet("/healthz", async (IDbContextFactory<CocoonDbContext> dbFactory, JobStorage storage, AgentQueries agents, TimeProvider clock, CancellationToken ct) =>
        {
            string databaseStatus;
            string? databaseError = null;
            var agentsOnline = 0;
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                await db.Database.ExecuteSqlRawAsync("SELECT 1", ct);
                databaseStatus = "Healthy";
                agentsOnline = await agents.CountOnlineAsync(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                databaseStatus = "Unhealthy";
                databaseError = ex.GetBaseException().Message;
            }

            int servers;
            string? hangfireError = null;
            try
            {
                var cutoff = clock.GetUtcNow().UtcDateTime - TimeSpan.FromMinutes(1);
                servers = storage.GetMonitoringApi().Servers().Count(s => s.Heartbeat is null || s.Heartbeat > cutoff);
            }
            catch (Exception ex)
            {
                servers = 0;
                hangfireError = ex.GetBaseException().Message;
            }

            var healthy = databaseStatus == "Healthy" && servers > 0;
            return Results.Json(new
            {
                status = healthy ? "Healthy" : "Unhealthy",
                database = new { status = databaseStatus, error = databaseError },
                hangfire = new { status = servers > 0 ? "Healthy" : "Unhealthy", servers, error = hangfireError },
                agentsOnline,
            }, statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).WithName("Health");
}
