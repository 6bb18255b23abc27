using Cocoon.Agent.Connection;
using Cocoon.Agent.Inference;
using Cocoon.Agent.ModelRuns;
using Cocoon.Agent.Options;
using Cocoon.Agent.Work;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent;

/// <summary>Builds the agent's host: used by the CLI's <c>run</c> and by the portal's local agent.</summary>
public static class AgentHost
{
    /// <summary>
    /// Settings come from appsettings.json beside the binary, then COCOON_-prefixed environment
    /// variables (COCOON_Agent__PortalUrl), then <paramref name="overrides"/> (the CLI's flags).
    /// </summary>
    /// <param name="overrides">Settings that win over every other source.</param>
    /// <param name="embedded">True when another host (the portal) owns the process: the agent then leaves
    /// Ctrl+C, SIGTERM and systemd to that host and is stopped by it.</param>
    public static HostApplicationBuilder CreateBuilder(IEnumerable<KeyValuePair<string, string?>> overrides, bool embedded = false)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ApplicationName = "cocoon-agent",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddEnvironmentVariables("COCOON_");
        builder.Configuration.AddInMemoryCollection(overrides);
        if (embedded)
        {
            builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        }
        else
        {
            builder.Services.AddSystemd();
        }

        builder.Services.AddCocoonAgent();
        return builder;
    }

    public static IServiceCollection AddCocoonAgent(this IServiceCollection services)
    {
        services.AddOptions<AgentOptions>()
            .BindConfiguration(AgentOptions.Section)
            .PostConfigure(o =>
            {
                // A paired agent knows its portal; --portal only overrides it (the portal moved).
                if (string.IsNullOrWhiteSpace(o.PortalUrl))
                {
                    o.PortalUrl = PairedCredentials.TryLoad(o.ResolveDataDirectory())?.PortalUrl ?? "";
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AgentIdentity>();
        services.AddSingleton<AgentTokenSource>();
        services.AddSingleton<AgentRunState>();
        services.AddSingleton<WorkInbox>();
        services.AddSingleton<ResultOutbox>();
        services.AddSingleton(sp => InferenceDevice.Open(
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.Device,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<InferenceDevice>()));
        services.AddSingleton<EnclaveKey>();
        services.AddSingleton<EnclaveEvidenceSource>();
        services.AddSingleton<LeaseBlobs>();
        services.AddSingleton<ModelCache>();
        services.AddSingleton<ModelUnitRunner>();
        services.AddSingleton<PortalConnection>();
        services.AddHostedService(sp => sp.GetRequiredService<PortalConnection>());
        services.AddHostedService<WorkExecutor>();
        services.AddHostedService<SelfBenchmark>();
        return services;
    }
}

/// <summary>A lifetime that listens to no signal: the embedding host decides when the agent stops.</summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
