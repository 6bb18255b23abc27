using System.CommandLine;
using Cocoon.Agent.Connection;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.Cli;

/// <summary><c>cocoon-agent run</c>: connect to the portal and run work until stopped.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var portal = new Option<string>("--portal") { Description = "The portal's URL, e.g. http://127.0.0.1:5080 (setting Agent:PortalUrl)." };
        var name = new Option<string>("--name") { Description = "A name for this agent (default: the host name)." };
        var device = DeviceOption.Create();
        var capacity = new Option<int?>("--capacity") { Description = "Work units held at once (default 2: one running, one queued)." };
        var dataDir = new Option<string>("--data-dir") { Description = "Where the agent keeps its id and unsent results." };
        var evidence = new Option<string>("--evidence") { Description = "What vouches for the enclave key: auto (TDX when this is a TDX guest), tdx, or development." };
        evidence.AcceptOnlyFromAmong("auto", "tdx", "development");

        var command = new Command("run", "Connect to the portal and run the work it assigns until stopped.")
        {
            portal, name, device, capacity, dataDir, evidence,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            Set(overrides, "Agent:PortalUrl", parse.GetValue(portal));
            Set(overrides, "Agent:Name", parse.GetValue(name));
            Set(overrides, "Agent:Device", parse.GetValue(device));
            Set(overrides, "Agent:Capacity", parse.GetValue(capacity)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set(overrides, "Agent:DataDirectory", parse.GetValue(dataDir));
            Set(overrides, "Agent:Evidence", parse.GetValue(evidence));
            return await RunAsync(overrides, cancellationToken);
        });
        return command;
    }

    /// <summary>Runs the agent host; returns the process exit code after printing one line on failure.</summary>
    public static async Task<int> RunAsync(Dictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        IHost host;
        try
        {
            host = AgentHost.CreateBuilder(overrides).Build();
            // Resolve settings and the device before starting, so a bad setting or a missing device is
            // one line from us rather than the host's stack trace.
            _ = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
            _ = host.Services.GetRequiredService<AgentTokenSource>();
            _ = host.Services.GetRequiredService<InferenceDevice>();
            await host.StartAsync(cancellationToken);
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"cocoon-agent: {string.Join(" ", ex.Failures)}");
            return 2;
        }
        catch (AgentNotPairedException ex)
        {
            await Console.Error.WriteLineAsync($"cocoon-agent: {ex.Message}");
            return 4;
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync($"cocoon-agent: {ex.Message}");
            return 1;
        }

        using (host)
        {
            await host.WaitForShutdownAsync(CancellationToken.None);
            var fatal = host.Services.GetRequiredService<AgentRunState>().FatalError;
            if (fatal is not null)
            {
                await Console.Error.WriteLineAsync($"cocoon-agent: {fatal}");
                return 3;
            }

            return 0;
        }
    }

    private static void Set(Dictionary<string, string?> overrides, string key, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            overrides[key] = value;
        }
    }
}
