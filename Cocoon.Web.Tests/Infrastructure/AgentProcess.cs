using System.Text.RegularExpressions;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>A real agent (cocoon-agent) as a child process on ILGPU's CPU accelerator.</summary>
public static partial class AgentProcess
{
    private static readonly Dictionary<string, string> Environment = new()
    {
        ["COCOON_Agent__MaxReconnectDelaySeconds"] = "2",
        // Two cores run the whole suite: agents benchmark themselves only where a test asks for it.
        ["COCOON_Agent__BenchmarkOnStart"] = "false",
        ["Logging__LogLevel__Default"] = "Information",
    };

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "cocoon-agent-" + Guid.NewGuid().ToString("N"));

    /// <summary>Pairs a new agent through the device flow (cocoon-agent pair, approved on the portal's page) and starts it.</summary>
    public static async Task<ChildProcess> StartPairedAsync(PortalProcess portal, string name, string? dataDirectory = null, IDictionary<string, string>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(portal);
        dataDirectory ??= NewDataDirectory();
        await PairAsync(portal, name, dataDirectory);
        return Start(portal.BaseAddress, name, dataDirectory, settings);
    }

    /// <summary>Runs cocoon-agent pair and approves its code as <paramref name="provider"/> (default: the admin).</summary>
    public static async Task PairAsync(PortalProcess portal, string name, string dataDirectory, HttpClient? provider = null)
    {
        ArgumentNullException.ThrowIfNull(portal);
        await using var pair = ChildProcess.StartDotnet(Repo.AgentDll,
            ["pair", "--portal", portal.BaseAddress.ToString(), "--name", name, "--data-dir", dataDirectory],
            Environment, $"pair-{name}-{DateTime.UtcNow:HHmmssfff}");
        string? code = null;
        await Eventually.HoldsAsync(() =>
        {
            Assert.False(pair.HasExited, $"cocoon-agent pair exited early:\n{pair.Output}");
            code = PairingCode().Match(pair.Output) is { Success: true } m ? m.Groups[1].Value : null;
            return Task.FromResult(code is not null);
        }, TimeSpan.FromSeconds(60), "cocoon-agent pair to print its code");
        await portal.ApprovePairingAsync(code!, provider);
        var exit = await pair.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"cocoon-agent pair exited with {exit}:\n{pair.Output}");
    }

    /// <summary>Starts cocoon-agent run; <paramref name="settings"/> (environment variables) win over the test defaults.</summary>
    public static ChildProcess Start(Uri portal, string name, string dataDirectory, IDictionary<string, string>? settings = null) =>
        ChildProcess.StartDotnet(Repo.AgentDll,
            ["run", "--portal", portal.ToString(), "--name", name, "--device", "cpu", "--data-dir", dataDirectory],
            settings is null ? Environment : new Dictionary<string, string>(Environment.Concat(settings).GroupBy(p => p.Key).Select(g => g.Last())),
            $"agent-{name}-{DateTime.UtcNow:HHmmssfff}");

    [GeneratedRegex("enter the code (\\S+)")]
    private static partial Regex PairingCode();
}
