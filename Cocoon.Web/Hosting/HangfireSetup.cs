using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;

namespace Cocoon.Web.Hosting;

public static class HangfireSetup
{
    /// <summary>Hangfire on the portal's PostgreSQL (schema "hangfire"), with LISTEN/NOTIFY so new work starts at once.</summary>
    public static void AddCocoonHangfire(this WebApplicationBuilder builder)
    {
        builder.Services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseFilter(new AutomaticRetryAttribute { Attempts = 5 })
            .UsePostgreSqlStorage(
                o => o.UseNpgsqlConnection(sp.GetRequiredService<CocoonDatabase>().ConnectionString),
                new PostgreSqlStorageOptions
                {
                    SchemaName = "hangfire",
                    PrepareSchemaIfNecessary = true,
                    // Without it a job enqueued by another node waits for the 15 s poll.
                    EnableLongPolling = true,
                    InvisibilityTimeout = TimeSpan.FromMinutes(5),
                }));
        builder.Services.AddHangfireServer(o =>
        {
            o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
            o.WorkerCount = builder.Configuration.GetValue("Cocoon:Hangfire:WorkerCount", Math.Max(4, Environment.ProcessorCount * 4));
        });
    }

    /// <summary>The dashboard at /hangfire, for admins only (the endpoint's policy decides, so Hangfire's own filters are off).</summary>
    public static void MapCocoonHangfire(this WebApplication app) =>
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [],
            DashboardTitle = "Cocoon jobs",
        }).RequireAuthorization(Features.Identity.CocoonPolicies.Admin);
}
