using System.CommandLine;
using Cocoon.Agent.Connection;
using Cocoon.Agent.Options;

namespace Cocoon.Agent.Cli;

/// <summary><c>cocoon-agent pair --portal URL</c>: bind this agent to a provider's account (OAuth device flow).</summary>
public static class PairCommand
{
    public static Command Create()
    {
        var portal = new Option<string>("--portal") { Description = "The portal's URL, e.g. https://cocoon.example.com.", Required = true };
        var name = new Option<string>("--name") { Description = "A name for this agent (default: the host name)." };
        var dataDir = new Option<string>("--data-dir") { Description = "Where the agent keeps its key and credentials." };
        var command = new Command("pair", "Pair this agent with your provider account: prints a code to enter in the portal.") { portal, name, dataDir };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new AgentOptions { DataDirectory = parse.GetValue(dataDir), PortalUrl = parse.GetValue(portal) ?? "" };
            var agentName = parse.GetValue(name) ?? Environment.MachineName;
            if (!Uri.TryCreate(options.PortalUrl.TrimEnd('/') + "/", UriKind.Absolute, out var portalUri) || portalUri.Scheme is not ("http" or "https"))
            {
                await Console.Error.WriteLineAsync("cocoon-agent: --portal must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5080.");
                return 2;
            }

            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                var credentials = await new DevicePairing(http, Console.Out).PairAsync(portalUri, agentName, options.ResolveDataDirectory(), cancellationToken, MachineDescription.Devices());
                await Console.Out.WriteLineAsync($"Paired: agent '{agentName}' ({credentials.AgentId}). Start it with: cocoon-agent run");
                return 0;
            }
            catch (Exception ex) when (ex is PairingFailedException or HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                await Console.Error.WriteLineAsync($"cocoon-agent: pairing failed: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
