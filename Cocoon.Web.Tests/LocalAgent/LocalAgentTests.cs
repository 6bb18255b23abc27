using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.LocalAgent;

/// <summary>The quick start's local agent: the portal pairs it, runs the built cocoon-agent as its child and stops it.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed partial class LocalAgentTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_portal_pairs_its_local_agent_runs_it_as_a_child_process_and_stops_it_with_itself()
    {
        var db = await postgres.CreateDatabaseAsync("local_agent");
        var settings = Settings(AgentProcess.NewDataDirectory());
        int pid;
        await using (var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-local-agent", settings))
        {
            await portal.WaitForAgentsOnlineAsync(1);
            var agent = Assert.Single((await portal.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!);
            Assert.Equal("local-agent", agent.Name);
            Assert.Null(agent.Owner);
            pid = int.Parse(ChildPid().Match(portal.Output).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.NotEqual(Environment.ProcessId, pid);
            await Eventually.HoldsAsync(() => Task.FromResult(portal.Output.Contains("local agent: Cocoon.Agent.Connection.PortalConnection[0] Registered with the portal", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(10), "the portal to log the agent's own lines");

            var job = await portal.SubmitAsync(new CreateJobRequest { Name = "local", MatrixSize = 16, MatrixCount = 4, MatricesPerUnit = 2, Seed = 3 });
            Assert.Equal(JobState.Succeeded, (await portal.WaitForJobAsync(job.Id, TimeSpan.FromMinutes(1))).State);

            await portal.StopAsync();
            Assert.Contains("Local agent stopped", portal.Output, StringComparison.Ordinal);
        }

        await Eventually.HoldsAsync(() => Task.FromResult(!IsRunning(pid)), TimeSpan.FromSeconds(10), $"the local agent (process {pid}) to be gone");

        // Started again, the portal finds the agent's credentials and does not pair a second agent.
        await using var again = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-local-agent-again", settings);
        await again.WaitForAgentsOnlineAsync(1);
        Assert.Single((await again.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!);
        Assert.DoesNotContain("Paired the local agent", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_built_agent_the_portal_says_how_to_build_it_and_runs_on()
    {
        var db = await postgres.CreateDatabaseAsync("local_agent_missing");
        var missing = Path.Combine(Path.GetTempPath(), "cocoon-no-agent-" + Guid.NewGuid().ToString("N"), "cocoon-agent.dll");
        var settings = Settings(AgentProcess.NewDataDirectory());
        settings["Cocoon__LocalAgent__Command"] = missing;
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-local-agent-missing", settings);

        await Eventually.HoldsAsync(() => Task.FromResult(portal.Output.Contains("The local agent is not built", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the portal to say the local agent is not built");
        Assert.Contains(missing, portal.Output, StringComparison.Ordinal);
        Assert.Contains("dotnet build Cocoon.Agent -c Release", portal.Output, StringComparison.Ordinal);
        Assert.True((await portal.Http.GetAsync("healthz")).IsSuccessStatusCode);
        Assert.Equal(0, await portal.AgentsOnlineAsync());
    }

    private static Dictionary<string, string> Settings(string dataDirectory) => new()
    {
        ["Cocoon__LocalAgent__Enabled"] = "true",
        ["Cocoon__LocalAgent__Device"] = "cpu",
        ["Cocoon__LocalAgent__DataDirectory"] = dataDirectory,
        // The agent inherits the portal's environment: the same test settings as AgentProcess gives its agents.
        ["COCOON_Agent__BenchmarkOnStart"] = "false",
        ["COCOON_Agent__MaxReconnectDelaySeconds"] = "2",
    };

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"started as process (\d+)")]
    private static partial Regex ChildPid();
}
