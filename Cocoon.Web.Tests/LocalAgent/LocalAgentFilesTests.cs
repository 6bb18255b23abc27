using Cocoon.Agent.Connection;
using Cocoon.Shared.Pairing;
using Cocoon.Web.Features.LocalAgent;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.LocalAgent;

/// <summary>
/// The portal writes the local agent's credentials without referencing the agent: these tests hold the
/// two sides to one file format, and the default program to the agent the solution builds.
/// </summary>
public sealed class LocalAgentFilesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cocoon-local-files-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void The_agent_reads_the_credentials_and_key_the_portal_writes()
    {
        using var key = AgentCredentials.CreateKey(_dir);
        var written = new AgentCredentials("http://127.0.0.1:5080/", Guid.NewGuid(), "agent-local");
        written.Save(_dir);

        Assert.Equal(written, PairedCredentials.Load(_dir));
        using var agentKey = PairedCredentials.LoadKey(_dir);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), agentKey.ExportSubjectPublicKeyInfo());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, AgentCredentials.KeyFileName)));
        }
    }

    [Fact]
    public void The_portal_treats_damaged_or_keyless_credentials_as_unpaired_where_the_agent_refuses_them()
    {
        var credentials = new AgentCredentials("https://portal.example.com/", Guid.NewGuid(), "agent-1");
        credentials.Save(_dir);
        Assert.Null(LocalAgentService.TryLoadCredentials(_dir));
        using (AgentCredentials.CreateKey(_dir))
        {
            Assert.Equal(credentials, LocalAgentService.TryLoadCredentials(_dir));
        }

        File.WriteAllText(Path.Combine(_dir, AgentCredentials.FileName), "{ not json");
        Assert.Null(LocalAgentService.TryLoadCredentials(_dir));
        Assert.Contains("pair the agent again", Assert.Throws<AgentNotPairedException>(() => PairedCredentials.Load(_dir)).Message, StringComparison.OrdinalIgnoreCase);
        Assert.Null(LocalAgentService.TryLoadCredentials(Path.Combine(_dir, "elsewhere")));
    }

    [Fact]
    public void By_default_the_portal_runs_the_agent_built_beside_it()
    {
        var found = LocalAgentProgram.Find(null, Path.GetDirectoryName(Repo.PortalDll)!, out _);
        Assert.Equal(Repo.AgentDll, found?.Location);

        var configured = LocalAgentProgram.Find("../agent/cocoon-agent.dll", _dir, out var tried);
        Assert.Null(configured);
        Assert.Equal([Path.GetFullPath(Path.Combine(_dir, "..", "agent", "cocoon-agent.dll"))], tried);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
