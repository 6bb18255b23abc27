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
using Level = Cocoon.Web.Tests.Attestation.TdxQuoteBuilder.Level;

namespace Cocoon.Web.Tests.Attestation;

/// <summary>
/// An agent presenting TDX quotes to the real portal: hardware-attested only when its whole guest
/// (MRTD, RTMR0–3, owner fields) is an allowed measurement set and Intel's collateral, fetched from a
/// PCCS or uploaded by an admin, rates its platform as the policy accepts. Quotes and collateral are
/// built on a test hierarchy the portal is told to trust (in Development only); the real Intel chain
/// and collateral are covered by <see cref="TdxQuoteTests"/> and <see cref="TcbEvaluatorTests"/>.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TdxAgentTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_tdx_agent_is_attested_only_for_an_allowed_whole_guest_on_a_platform_intels_collateral_accepts()
    {
        using var intel = new TdxQuoteBuilder();
        await using var pccs = await FakePccs.StartAsync();
        var db = await postgres.CreateDatabaseAsync("tdx_agent");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-tdx", new Dictionary<string, string>
        {
            ["Cocoon__Attestation__TestTdxRootCertificatePem"] = intel.Root.ExportCertificatePem(),
            ["Cocoon__Attestation__PccsUrl"] = pccs.Url,
        });
        var mrtd = RandomNumberGenerator.GetBytes(48);
        byte[][] rtmrs = [RandomNumberGenerator.GetBytes(48), RandomNumberGenerator.GetBytes(48), RandomNumberGenerator.GetBytes(48), RandomNumberGenerator.GetBytes(48)];
        using var enclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var key = Hpke.PublicKeyBytes(enclave);
        var (credentials, directory) = await TestAgents.PairAsync(portal, "tdx-agent");
        var developer = await portal.SignInAsync(new TestWallet());

        // Registers on a fresh connection with a quote for that connection's nonce; returns the refusal, or null when attested.
        async Task<string?> RegisterAsync(byte[][]? registers = null, Func<byte[], EnclaveEvidence>? evidence = null)
        {
            await using var hub = await TestAgents.ConnectHubAsync(portal, credentials, directory);
            var nonce = (await hub.InvokeAsync<AttestationChallenge>(nameof(IAgentHub.ChallengeAsync))).Nonce;
            var presented = evidence?.Invoke(nonce) ?? TdxEvidence.Create(key, intel.Build(EvidenceBinding.ReportData(credentials.AgentId, nonce, key), mrtd, rtmrs: registers ?? rtmrs));
            try
            {
                await hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), TestAgents.Hello(credentials.AgentId, "tdx-agent") with { Enclave = presented });
                return null;
            }
            catch (HubException refused)
            {
                Assert.Contains(AgentProtocol.RefusalPrefix, refused.Message, StringComparison.Ordinal);
                return refused.Message;
            }
        }

        Task<HttpResponseMessage> UploadAsync(byte[] document, string? chain = null) =>
            portal.Http.PostAsJsonAsync("api/admin/tdx-collateral", new { document = document[0] == (byte)'{' ? System.Text.Encoding.UTF8.GetString(document) : Convert.ToBase64String(document), issuerChain = chain });

        // Not allowed yet: refused, and told what an admin must do.
        Assert.Contains("allow-list", await RegisterAsync(), StringComparison.Ordinal);

        // Admins keep the list of whole-guest sets; bad entries are refused with a reason, and only admins may add.
        var set = new { name = "agent image 1", note = "built from commit abc", mrtd = Hex(mrtd), rtmr0 = Hex(rtmrs[0]), rtmr1 = Hex(rtmrs[1]), rtmr2 = Hex(rtmrs[2]), rtmr3 = Hex(rtmrs[3]) };
        Assert.Equal(HttpStatusCode.BadRequest, (await portal.Http.PostAsJsonAsync("api/admin/tdx-measurements", new { name = "x", mrtd = Hex(mrtd) })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await portal.Http.PostAsJsonAsync("api/admin/tdx-measurements", new { name = "x", quote = "not a quote" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.PostAsJsonAsync("api/admin/tdx-measurements", set)).StatusCode);
        var added = await portal.Http.PostAsJsonAsync("api/admin/tdx-measurements", set);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var setId = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.BadRequest, (await portal.Http.PostAsJsonAsync("api/admin/tdx-measurements", set with { name = "again" })).StatusCode);

        // The same firmware booting another kernel (RTMR2) is not the allowed image.
        var otherKernel = rtmrs.Select((r, i) => i == 2 ? RandomNumberGenerator.GetBytes(48) : r).ToArray();
        var refusal = await RegisterAsync(otherKernel);
        Assert.Contains("RTMR2", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain("RTMR1", refusal, StringComparison.Ordinal);

        // No collateral yet, and the PCCS (asked for it there and then) has none: refused, saying so.
        // Stale collateral an admin uploads is stored, reported, and past its grace not used.
        Assert.Contains("TCB info for FMSPC", await RegisterAsync(), StringComparison.Ordinal);
        Assert.Contains(pccs.Requests, r => r == $"/tdx/certification/v4/tcb?fmspc={TdxQuoteBuilder.FmspcHex}");
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        foreach (var (document, chain) in new[] { (intel.TcbInfo(old, [new Level(5, 11, 3, "UpToDate")], evaluation: 16), intel.TcbChainPem), (intel.QeIdentity(old, evaluation: 16), intel.TcbChainPem), (intel.PckCrl(old), intel.PckCrlChainPem), (intel.RootCrl(old), null) })
        {
            var stored = await UploadAsync(document, chain);
            Assert.True(stored.StatusCode == HttpStatusCode.Created, await stored.Content.ReadAsStringAsync());
        }

        var overview = await portal.Http.GetFromJsonAsync<JsonElement>("api/admin/tdx-collateral");
        Assert.Equal(4, overview.GetProperty("documents").GetArrayLength());
        Assert.All(overview.GetProperty("documents").EnumerateArray(), d => Assert.True(d.GetProperty("stale").GetBoolean()));
        Assert.Contains("due for renewal", await RegisterAsync(), StringComparison.Ordinal);

        // The PCCS now has current collateral; registrations do not hammer a PCCS that just failed, so the
        // admin refreshes (as the hourly job would), and the agent is attested.
        var now = DateTimeOffset.UtcNow.AddHours(-1);
        pccs.ServeTcbInfo(TdxQuoteBuilder.FmspcHex, intel.TcbInfo(now, [new Level(5, 11, 3, "UpToDate")]), intel.TcbChainPem);
        pccs.ServeQeIdentity(intel.QeIdentity(now), intel.TcbChainPem);
        pccs.ServePlatformCrl(intel.PckCrl(now), intel.PckCrlChainPem);
        pccs.ServeRootCrl(intel.RootCrl(now));
        var refreshed = await portal.Http.PostAsync("api/admin/tdx-collateral/refresh", null);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        Assert.Contains("Processor", await refreshed.Content.ReadAsStringAsync(), StringComparison.Ordinal); // the one document this PCCS lacks
        Assert.Null(await RegisterAsync());
        overview = await portal.Http.GetFromJsonAsync<JsonElement>("api/admin/tdx-collateral");
        Assert.All(overview.GetProperty("documents").EnumerateArray(), d =>
        {
            Assert.False(d.GetProperty("stale").GetBoolean());
            Assert.StartsWith("PCCS", d.GetProperty("source").GetString(), StringComparison.Ordinal);
        });
        // Uploads are checked: forged, rolled back, or not Intel's shape → 400 with a reason; nothing stored.
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync(intel.TcbInfo(now, [new Level(6, 11, 3, "UpToDate"), new Level(5, 11, 3, "OutOfDate")], evaluation: 18, tamper: true), intel.TcbChainPem)).StatusCode);
        var rollback = await UploadAsync(intel.TcbInfo(now.AddDays(-2), [new Level(5, 11, 3, "UpToDate")], evaluation: 16), intel.TcbChainPem);
        Assert.Equal(HttpStatusCode.BadRequest, rollback.StatusCode);
        Assert.Contains("newer", await rollback.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync("{\"hello\":1}"u8.ToArray())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.PostAsJsonAsync("api/admin/tdx-collateral", new { document = "{}" })).StatusCode);

        // Intel publishes a recovery this platform lacks: OutOfDate is refused.
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(intel.TcbInfo(now, [new Level(6, 11, 3, "UpToDate"), new Level(5, 11, 3, "OutOfDate", ["INTEL-SA-01010"])], evaluation: 18), intel.TcbChainPem)).StatusCode);
        refusal = await RegisterAsync();
        Assert.Contains("OutOfDate", refusal, StringComparison.Ordinal);
        Assert.Contains("INTEL-SA-01010", refusal, StringComparison.Ordinal);

        // SWHardeningNeeded is refused by default and accepted once an admin allows it.
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(intel.TcbInfo(now, [new Level(5, 11, 3, "SWHardeningNeeded", ["INTEL-SA-00615"])], evaluation: 19), intel.TcbChainPem)).StatusCode);
        Assert.Contains("SWHardeningNeeded", await RegisterAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.PutAsJsonAsync("api/admin/tdx-collateral/policy", new { acceptSwHardeningNeeded = true })).StatusCode);
        Assert.Null(await RegisterAsync());

        // A revoked PCK certificate is refused whatever its level.
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(intel.PckCrl(now.AddMinutes(5), revokePck: true), intel.PckCrlChainPem)).StatusCode);
        Assert.Contains("revoked", await RegisterAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(intel.PckCrl(now.AddMinutes(10)), intel.PckCrlChainPem)).StatusCode);

        // A quote for another key is refused even with everything else allowed; the agent shows as attested while it is.
        using var other = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        Assert.Contains("does not commit", await RegisterAsync(evidence: nonce => TdxEvidence.Create(Hpke.PublicKeyBytes(other), intel.Build(EvidenceBinding.ReportData(credentials.AgentId, nonce, key), mrtd, rtmrs: rtmrs))), StringComparison.Ordinal);
        // Two admins (or a refresh and an admin) storing the same document at once: both stored, nothing breaks.
        var qe = intel.QeIdentity(now.AddMinutes(1));
        Assert.All(await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => UploadAsync(qe, intel.TcbChainPem))), r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));

        async Task<HubConnection> ConnectAttestedAsync()
        {
            var hub = await TestAgents.ConnectHubAsync(portal, credentials, directory);
            var nonce = (await hub.InvokeAsync<AttestationChallenge>(nameof(IAgentHub.ChallengeAsync))).Nonce;
            await hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), TestAgents.Hello(credentials.AgentId, "tdx-agent") with
            {
                Enclave = TdxEvidence.Create(key, intel.Build(EvidenceBinding.ReportData(credentials.AgentId, nonce, key), mrtd, rtmrs: rtmrs)),
            });
            return hub;
        }

        // Intel revokes the platform while the agent is connected: it loses its attestation when the CRL arrives, not at its next registration.
        await using (var hub = await ConnectAttestedAsync())
        {
            Assert.True(Assert.Single(await developer.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/model-jobs/agents", PortalProcess.Json) ?? []).HardwareAttested);
            Assert.Equal(HttpStatusCode.Created, (await UploadAsync(intel.PckCrl(now.AddMinutes(15), revokePck: true), intel.PckCrlChainPem)).StatusCode);
            Assert.Empty(await developer.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/model-jobs/agents", PortalProcess.Json) ?? []);
        }

        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(intel.PckCrl(now.AddMinutes(20)), intel.PckCrlChainPem)).StatusCode);
        await using (var hub = await ConnectAttestedAsync())
        {

            var candidate = Assert.Single(await developer.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/model-jobs/agents", PortalProcess.Json) ?? []);
            Assert.True(candidate.HardwareAttested);
            Assert.Equal(key, candidate.EnclaveKey);

            await using var browser = await Infrastructure.Browser.LaunchAsync();
            var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/agents");
            await Assertions.Expect(page.Locator("[data-attestation=tdx]")).ToContainTextAsync("hardware-attested (TDX)");
            var collateralPage = await portal.Http.GetStringAsync("admin/collateral");
            Assert.Contains("TCB info " + TdxQuoteBuilder.FmspcHex, collateralPage, StringComparison.Ordinal);
            Assert.Contains("PCK Platform CA CRL", collateralPage, StringComparison.Ordinal);

            // Removing the set takes the attestation and the enclave key away at once.
            Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.DeleteAsync($"api/admin/tdx-measurements/{setId}")).StatusCode);
            Assert.Empty(await developer.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/model-jobs/agents", PortalProcess.Json) ?? []);
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
