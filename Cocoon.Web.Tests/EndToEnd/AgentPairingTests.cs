using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Agent.Connection;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Pairing;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>Agent pairing and revocation with real processes: cocoon-agent pair, the portal's page, cocoon-agent run.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class AgentPairingTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_paired_agent_runs_work_for_its_provider_and_revoking_it_cuts_it_off()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_pairing");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-pairing");

        // A provider other than the admin pairs the agent, and so owns it.
        using var owner = new TestWallet();
        var ownerHttp = await portal.SignInAsync(owner);
        (await ownerHttp.PostAsync("api/account/provider", null)).EnsureSuccessStatusCode();
        var dataDirectory = AgentProcess.NewDataDirectory();
        await AgentProcess.PairAsync(portal, "owned", dataDirectory, ownerHttp);
        await using var agent = AgentProcess.Start(portal.BaseAddress, "owned", dataDirectory);
        await portal.WaitForAgentsOnlineAsync(1);

        var agents = await ownerHttp.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json);
        var view = Assert.Single(agents!);
        Assert.Equal(owner.Address.ToFriendly(bounceable: false, testnet: true), view.Owner);

        var job = await portal.SubmitAsync(new CreateJobRequest { Name = "paired", MatrixSize = 16, MatrixCount = 4, MatricesPerUnit = 2, Seed = 5 });
        Assert.Equal(JobState.Succeeded, (await portal.WaitForJobAsync(job.Id, TimeSpan.FromMinutes(1))).State);

        // Another provider cannot revoke it (and is not told it exists); its owner can.
        using var stranger = new TestWallet();
        var strangerHttp = await portal.SignInAsync(stranger);
        (await strangerHttp.PostAsync("api/account/provider", null)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NotFound, (await strangerHttp.PostAsync($"api/agents/{view.Id}/revoke", null)).StatusCode);

        var revokedAt = DateTime.UtcNow;
        Assert.Equal(HttpStatusCode.NoContent, (await ownerHttp.PostAsync($"api/agents/{view.Id}/revoke", null)).StatusCode);

        // Cut off within seconds: the portal closes its connection, its next token request is refused,
        // and the agent stops with one line saying what to do.
        var exit = await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, exit);
        Assert.True(DateTime.UtcNow - revokedAt < TimeSpan.FromSeconds(30));
        Assert.Contains("pair it again", agent.Output, StringComparison.Ordinal);
        Assert.Equal(0, await portal.AgentsOnlineAsync());
        var revoked = Assert.Single((await ownerHttp.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!);
        Assert.NotNull(revoked.RevokedAt);

        // Its key gets no more tokens.
        var credentials = Agent.Connection.PairedCredentials.Load(dataDirectory);
        var refused = await TestAgents.RequestTokenAsync(portal, credentials, dataDirectory);
        Assert.True(refused.Refused);
        Assert.Equal("invalid_client", refused.Error);
    }

    /// <summary>A device-flow token pairs one agent: used again (or by two requests at once) it is refused, and no second agent exists.</summary>
    [Fact]
    public async Task A_pairing_token_pairs_one_agent_and_is_refused_after()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_pairing_token_once");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-pairing-once");
        var token = await TestAgents.PairingTokenAsync(portal);
        using var agent = portal.NewClient();
        agent.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var q = key.ExportParameters(false).Q;
        var request = new PairAgentRequest { Name = "once", KeyX = ClientAssertion.Encode(q.X), KeyY = ClientAssertion.Encode(q.Y) };

        // A request the portal refuses does not spend the token.
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PostAsJsonAsync("api/agents/pair", request with { Name = "" })).StatusCode);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => agent.PostAsJsonAsync("api/agents/pair", request)));
        Assert.Single(attempts, r => r.StatusCode == HttpStatusCode.OK);
        var refused = attempts.First(r => r.StatusCode != HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("each code pairs one agent", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await agent.PostAsJsonAsync("api/agents/pair", request with { Name = "later" })).StatusCode);
        await using var ledger = PortalDb.Open(db);
        Assert.Equal(1, await ledger.Agents.CountAsync());
    }

    [Fact]
    public async Task Run_without_pairing_and_a_declined_or_wrong_code_fail_with_one_line()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_unpaired");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-unpaired");

        await using var unpaired = AgentProcess.Start(portal.BaseAddress, "unpaired", AgentProcess.NewDataDirectory());
        Assert.Equal(4, await unpaired.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("cocoon-agent: this agent is not paired", unpaired.Output, StringComparison.Ordinal);

        // A code nobody issued is refused on the page, and nothing is paired.
        var page = await portal.Http.GetAsync("connect/verify?user_code=NOPE-NOPE-NOPE");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        var form = await portal.Http.GetStringAsync("agents/pair?user_code=NOPE-NOPE-NOPE");
        Assert.Contains("user_code", form, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => portal.ApprovePairingAsync("NOPE-NOPE-NOPE"));
        Assert.Empty((await portal.Http.GetFromJsonAsync<JsonElement>("api/agents")).EnumerateArray());
    }

    /// <summary>
    /// Before approving, the provider sees what asked for the code (agent, machine, device, when, from
    /// which address) and must say it was them; an approval without that confirmation pairs nothing.
    /// </summary>
    [Fact]
    public async Task The_pairing_page_shows_what_is_being_approved_and_asks_for_confirmation()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_pairing_review");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-pairing-review");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var output = new StringWriter();
        var pairing = new DevicePairing(http, TextWriter.Synchronized(output))
            .PairAsync(portal.BaseAddress, "gpu-box-7", AgentProcess.NewDataDirectory(), CancellationToken.None, "2× NVIDIA H100 <script>");
        string? code = null;
        await Eventually.HoldsAsync(() =>
        {
            var match = System.Text.RegularExpressions.Regex.Match(output.ToString(), "enter the code (\\S+)");
            code = match.Success ? match.Groups[1].Value : null;
            return Task.FromResult(code is not null);
        }, TimeSpan.FromSeconds(30), "the pairing code");

        var page = await portal.Http.GetStringAsync($"agents/pair?user_code={Uri.EscapeDataString(code!.ToLowerInvariant())}");
        Assert.Contains("gpu-box-7", page, StringComparison.Ordinal);
        Assert.Contains(Environment.MachineName, page, StringComparison.Ordinal);
        Assert.Contains("NVIDIA H100 &lt;script&gt;", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", page, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", page, StringComparison.Ordinal);
        Assert.Contains("confirm-pairing", page, StringComparison.Ordinal);

        // Approve without ticking the confirmation: sent back to the page, and the agent is still waiting.
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var unconfirmed = await portal.Http.PostAsync("connect/verify", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
            ["user_code"] = code,
            ["decision"] = "approve",
        }));
        Assert.Equal(HttpStatusCode.Redirect, unconfirmed.StatusCode);
        Assert.Contains("error=unconfirmed", unconfirmed.Headers.Location?.ToString(), StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.False(pairing.IsCompleted);

        await portal.ApprovePairingAsync(code);
        var credentials = await pairing;
        Assert.Equal("gpu-box-7", Assert.Single((await portal.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!).Name);
        Assert.NotEqual(Guid.Empty, credentials.AgentId);
    }
}
