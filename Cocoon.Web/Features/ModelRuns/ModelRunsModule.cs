using Cocoon.Web.Features.Jobs;

namespace Cocoon.Web.Features.ModelRuns;

/// <summary>Model jobs: submission with key grants, what a model unit's assignment carries, and the sealed outputs.</summary>
public static class ModelRunsModule
{
    public static void AddCocoonModelRuns(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ModelJobSubmission>();
        builder.Services.AddSingleton<IModelRunDispatch, ModelRunDispatch>();
    }

    public static void MapCocoonModelRuns(this WebApplication app) => app.MapModelRunsEndpoints();
}
