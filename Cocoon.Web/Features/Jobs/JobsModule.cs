using Cocoon.Web.Features.Agents;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Jobs: submission, planning into units, dispatch to agents, leases and their sweeping.</summary>
public static class JobsModule
{
    public static void AddCocoonJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<JobsOptions>()
            .BindConfiguration(JobsOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<Dispatcher>();
        builder.Services.AddSingleton<UnitLifecycle>();
        builder.Services.AddSingleton<IAgentWork, AgentWork>();
        builder.Services.AddSingleton<JobSubmission>();
        builder.Services.AddSingleton<JobQueries>();
        builder.Services.AddSingleton<JobControl>();
        builder.Services.AddSingleton<JobCosts>();
        builder.Services.AddSingleton<Money.IJobNames, JobNames>();
        builder.Services.AddTransient<PlanJob>();
        builder.Services.AddTransient<DispatchUnitJob>();
        builder.Services.AddSingleton<LeaseSweeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LeaseSweeper>());
    }

    public static void MapCocoonJobs(this WebApplication app) => app.MapJobsEndpoints();
}
