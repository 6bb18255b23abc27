using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Cocoon.Web.Tests.Hosting;

/// <summary>The portal's HTTP and hub surface, including what it does with bad input.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PortalApiTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Health_bad_requests_and_protocol_mismatches_get_clear_answers()
    {
        var db = await postgres.CreateDatabaseAsync("api");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-api");

        // Health: JSON with the database, Hangfire and the agents online.
        var health = await portal.Http.GetFromJsonAsync<JsonElement>("healthz");
        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Equal("Healthy", health.GetProperty("database").GetProperty("status").GetString());
        Assert.True(health.GetProperty("hangfire").GetProperty("servers").GetInt32() >= 1);
        Assert.Equal(0, health.GetProperty("agentsOnline").GetInt32());

        // Out-of-range job: 400 problem details naming each field.
        var bad = await portal.Http.PostAsJsonAsync("api/jobs", new { name = "", matrixSize = 1, matrixCount = 5, matricesPerUnit = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("Give the job a name.", problem.GetProperty("errors").GetProperty("Name").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("Matrix size must be between 2 and 2048.", problem.GetProperty("errors").GetProperty("MatrixSize").EnumerateArray().Select(e => e.GetString()));

        var tooMany = await portal.Http.PostAsJsonAsync("api/jobs", new { name = "x", matrixSize = 8, matrixCount = 1_000_000, matricesPerUnit = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("at most 10,000 are allowed", await tooMany.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var notJson = await portal.Http.PostAsync("api/jobs", new StringContent("{ not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);

        // Unknown job: 404 problem details.
        var missing = await portal.Http.GetAsync($"api/jobs/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("There is no job", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty((await portal.Http.GetFromJsonAsync<JsonElement>("api/jobs")).EnumerateArray());

        // The Hangfire dashboard answers admins.
        Assert.Equal(HttpStatusCode.OK, (await portal.Http.GetAsync("hangfire")).StatusCode);

        // An agent speaking another protocol version is refused with a message that says what to do.
        var (credentials, dataDirectory) = await TestAgents.PairAsync(portal, "from-the-future");
        await using var hub = await TestAgents.ConnectHubAsync(portal, credentials, dataDirectory);
        var hello = TestAgents.Hello(credentials.AgentId, "from-the-future") with { ProtocolVersion = AgentProtocol.Version + 1, AgentVersion = "9.9.9" };
        var refused = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), hello));
        Assert.StartsWith(AgentProtocol.RefusalPrefix, refused.Message[refused.Message.IndexOf(AgentProtocol.RefusalPrefix, StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Contains("update the portal", refused.Message, StringComparison.Ordinal);

        // Calls before registration are refused too.
        var early = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync(nameof(IAgentHub.HeartbeatAsync), new AgentHeartbeat { ActiveLeases = [] }));
        Assert.Contains("RegisterAsync", early.Message, StringComparison.Ordinal);
        Assert.Equal(0, await portal.AgentsOnlineAsync());
    }
}
