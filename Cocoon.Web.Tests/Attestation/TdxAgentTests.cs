using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Sealing;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;

namespace Cocoon.Web.Tests.Attestation;

/// <summary>
/// An agent presenting a TDX quote to the real portal: hardware-attested only while its measurement
/// is on the allow-list admins keep. The quotes are built on a test hierarchy the portal is told to
/// trust (outside Production only); the real Intel chain is covered by <see cref="TdxQuoteTests"/>.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TdxAgentTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_tdx_agent_is_hardware_attested_while_its_measurement_is_allowed()
    {
        using var quotes = new TdxQuoteBuilder();
        var db = await postgres.CreateDatabaseAsync("tdx_agent");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-tdx", new Dictionary<string, string>
        {
            ["Cocoon__Attestation__TestTdxRootCertificatePem"] = quotes.Root.ExportCertificatePem(),
        });
        var mrtd = RandomNumberGenerator.GetBytes(48);
        using var enclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var key = Hpke.PublicKeyBytes(enclave);
        var (credentials, directory) = await TestAgents.PairAsync(portal, "tdx-agent");

        // Not allowed yet: the agent is refused, and told what an admin must do.
        await using (var hub = await TestAgents.ConnectHubAsync(portal, credentials, directory))
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => RegisterAsync(hub, credentials.AgentId, TdxEvidence.Create(key, quotes.Build(TdxQuoteVerifier.ReportDataFor(key), mrtd))));
            Assert.Contains(AgentProtocol.RefusalPrefix, refused.Message, StringComparison.Ordinal);
            Assert.Contains("allow-list", refused.Message, StringComparison.Ordinal);
        }

        // Admins keep the list; bad entries are refused with a reason.
        Assert.Equal(HttpStatusCode.BadRequest, (await portal.Http.PostAsJsonAsync("api/admin/tdx-measurements", new { mrtd = "abc", label = "x" })).StatusCode);
        var developer = await portal.SignInAsync(new TestWallet());
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.PostAsJsonAsync("api/admin/tdx-measurements", new { mrtd = Convert.ToHexStringLower(mrtd), label = "x" })).StatusCode);
        var added = await portal.Http.PostAsJsonAsync("api/admin/tdx-measurements", new { mrtd = Convert.ToHexStringLower(mrtd), label = "agent image 1" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var measurementId = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.BadRequest, (await portal.Http.PostAsJsonAsync("api/admin/tdx-measurements", new { mrtd = Convert.ToHexStringLower(mrtd), label = "again" })).StatusCode);

        await using (var hub = await TestAgents.ConnectHubAsync(portal, credentials, directory))
        {
            // A quote for another key, or from a debug TD, is refused even with an allowed measurement.
            using var other = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            var stolen = TdxEvidence.Create(Hpke.PublicKeyBytes(other), quotes.Build(TdxQuoteVerifier.ReportDataFor(key), mrtd));
            Assert.Contains("does not commit", (await Assert.ThrowsAsync<HubException>(() => RegisterAsync(hub, credentials.AgentId, stolen))).Message, StringComparison.Ordinal);
        }

        await using (var hub = await TestAgents.ConnectHubAsync(portal, credentials, directory))
        {
            await RegisterAsync(hub, credentials.AgentId, TdxEvidence.Create(key, quotes.Build(TdxQuoteVerifier.ReportDataFor(key), mrtd)));
            var candidate = Assert.Single(await developer.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/model-jobs/agents", PortalProcess.Json) ?? []);
            Assert.True(candidate.HardwareAttested);
            Assert.Equal(key, candidate.EnclaveKey);

            await using var browser = await Infrastructure.Browser.LaunchAsync();
            var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/agents");
            await Assertions.Expect(page.Locator("[data-attestation=tdx]")).ToContainTextAsync("hardware-attested (TDX)");

            // Removing the measurement takes the attestation and the enclave key away at once.
            Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.DeleteAsync($"api/admin/tdx-measurements/{measurementId}")).StatusCode);
            Assert.Empty(await developer.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/model-jobs/agents", PortalProcess.Json) ?? []);
        }
    }

    private static Task<AgentWelcome> RegisterAsync(HubConnection hub, Guid agentId, EnclaveEvidence evidence) =>
        hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), TestAgents.Hello(agentId, "tdx-agent") with { Enclave = evidence });
}
