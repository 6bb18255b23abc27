namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>A real agent (cocoon-agent run) as a child process on ILGPU's CPU accelerator.</summary>
public static class AgentProcess
{
    public static ChildProcess Start(Uri portal, string name, string? dataDirectory = null) =>
        ChildProcess.StartDotnet(Repo.AgentDll,
            ["run", "--portal", portal.ToString(), "--name", name, "--device", "cpu",
                "--data-dir", dataDirectory ?? Path.Combine(Path.GetTempPath(), "cocoon-agent-" + Guid.NewGuid().ToString("N"))],
            new Dictionary<string, string>
            {
                ["COCOON_Agent__MaxReconnectDelaySeconds"] = "2",
                ["Logging__LogLevel__Default"] = "Information",
            },
            $"agent-{name}-{DateTime.UtcNow:HHmmssfff}");
}
