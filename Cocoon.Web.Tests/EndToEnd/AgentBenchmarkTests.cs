using System.Net.Http.Json;
using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>An agent benchmarks itself when it starts, and the portal shows the score.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class AgentBenchmarkTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_started_agent_reports_its_benchmark_score_and_an_impossible_one_is_refused()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_benchmark");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-benchmark");
        await using var agent = await AgentProcess.StartPairedAsync(portal, "measured", settings: new Dictionary<string, string> { ["COCOON_Agent__BenchmarkOnStart"] = "true" });

        AgentView measured = null!;
        await Eventually.HoldsAsync(async () =>
        {
            measured = (await portal.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!.Single(a => a.Name == "measured");
            return measured.BenchmarkScore is not null;
        }, TimeSpan.FromSeconds(90), "the agent's benchmark score");
        Assert.InRange(measured.BenchmarkScore!.Value, 0.01, 10_000);
        Assert.Contains("Benchmarked the reference models", agent.Output, StringComparison.Ordinal);

        var (credentials, directory) = await TestAgents.PairAsync(portal, "boaster");
        await using var hub = await TestAgents.ConnectHubAsync(portal, credentials, directory);
        await hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), TestAgents.Hello(credentials.AgentId, "boaster"));
        var refused = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync(nameof(IAgentHub.ReportBenchmarkAsync), new AgentBenchmark { Score = 1e9, Device = "cpu" }));
        Assert.Contains("not believable", refused.Message, StringComparison.Ordinal);
    }
}
