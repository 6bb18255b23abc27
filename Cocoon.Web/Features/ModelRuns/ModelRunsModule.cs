using Cocoon.Web.Features.Jobs;
using Hangfire;

namespace Cocoon.Web.Features.ModelRuns;

/// <summary>
/// Model jobs: submission with key grants, what a model unit's assignment carries, the sealed outputs
/// agents upload (one per lease, bounded by the unit's rows) and the sweep of those no result stands behind.
/// </summary>
public static class ModelRunsModule
{
    public static void AddCocoonModelRuns(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelRunsOptions>()
            .BindConfiguration(ModelRunsOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ModelJobSubmission>();
        builder.Services.AddSingleton<IModelRunDispatch, ModelRunDispatch>();
        builder.Services.AddSingleton<OrphanOutputSweep>();
    }

    public static void MapCocoonModelRuns(this WebApplication app)
    {
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<OrphanOutputSweep>(OrphanOutputSweep.JobId, s => s.RunAsync(CancellationToken.None), "*/5 * * * *");
        app.MapModelRunsEndpoints();
    }
}
