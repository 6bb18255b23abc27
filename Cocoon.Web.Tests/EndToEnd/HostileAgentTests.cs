using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Cocoon.Agent.Connection;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Tests.Inference;
using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Sealing;
using Cocoon.Shared.Work;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Blobs;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Features.ModelRuns;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// A provider's agent that lies about its work, played by a raw SignalR client holding a paired agent's
/// token against the real portal: a result may only name the output its own lease uploaded, with the
/// digest it reports; a lease uploads one output, no larger than its rows allow; outputs of leases that
/// did not succeed are swept from the developer's storage.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class HostileAgentTests(PostgresFixture postgres)
{
    private const int Rows = 8;

    [Fact]
    public async Task A_result_only_counts_with_the_output_its_own_lease_uploaded()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_hostile_agent");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-hostile-agent", new Dictionary<string, string>
        {
            ["Cocoon__ModelRuns__OrphanOutputMinutes"] = "0",
        });
        await using var agent = await ScriptedAgent.StartAsync(portal, "hostile");

        using var developer = new SealedDeveloper(await portal.SignInAsync(new TestWallet()));
        var (job, modelId) = await SubmitModelJobAsync(developer);
        var model = await developer.Http.GetFromJsonAsync<JsonElement>($"api/models/{modelId}");
        var (modelBlob, modelDigest) = (model.GetProperty("blobId").GetGuid(), model.GetProperty("digest").GetString()!);

        // The job's own model named as the output, with its true digest: refused, the unit goes back.
        var first = await agent.NextAssignmentAsync();
        Assert.Equal(ResultAck.Rejected, await agent.ReportAsync(first.LeaseId, modelBlob, modelDigest));

        // The job's input (the dataset) named as the output: refused too.
        var dataset = (await developer.Http.GetFromJsonAsync<JsonElement>("api/datasets")).EnumerateArray().Single();
        var inputLease = await agent.NextAssignmentAsync();
        Assert.Equal(ResultAck.Rejected, await agent.ReportAsync(inputLease.LeaseId, dataset.GetProperty("blobId").GetGuid(), dataset.GetProperty("digest").GetString()!));

        // A lease uploads one output, no larger than its rows of the model's declared outputs allow
        // (64 KiB + 8 rows × 2 elements × 8 bytes here; the per-row default would allow 8 MiB).
        var second = await agent.NextAssignmentAsync();
        Assert.NotEqual(inputLease.LeaseId, second.LeaseId);
        var tooLarge = await agent.UploadAsync(second.LeaseId, new byte[70_000]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("declared outputs", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var upload = await agent.UploadAsync(second.LeaseId, RandomNumberGenerator.GetBytes(5000));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var secondOutput = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("blobId").GetGuid();
        var again = await agent.UploadAsync(second.LeaseId, RandomNumberGenerator.GetBytes(5000));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already uploaded its output", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Its own output with a digest that is not the output's: refused.
        Assert.Equal(ResultAck.Rejected, await agent.ReportAsync(second.LeaseId, secondOutput, new string('a', 64)));

        // Another lease's output (with that output's true digest): refused.
        var third = await agent.NextAssignmentAsync();
        var secondDigest = (await Blob(db, secondOutput)).Digest;
        Assert.Equal(ResultAck.Rejected, await agent.ReportAsync(third.LeaseId, secondOutput, secondDigest));

        // Its own lease's output, as uploaded: the unit succeeds (what it holds is not verified yet).
        var fourth = await agent.NextAssignmentAsync();
        var honest = await agent.UploadAsync(fourth.LeaseId, RandomNumberGenerator.GetBytes(3000));
        var honestBlob = (await honest.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("blobId").GetGuid();
        Assert.Equal(ResultAck.Accepted, await agent.ReportAsync(fourth.LeaseId, honestBlob, (await Blob(db, honestBlob)).Digest));
        Assert.Equal(JobState.Succeeded, (await developer.Http.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!.State);

        // The rejected lease's output is swept; the accepted one and the model stay.
        await using (var ledger = PortalDb.Open(db))
        {
            Assert.Equal(secondOutput, await ledger.Set<StoredBlob>().Where(b => b.LeaseId == second.LeaseId).Select(b => b.Id).SingleAsync());
        }

        var sweep = new OrphanOutputSweep(new LedgerFactory(db), new FileSystemBlobStore(Options.Create(new BlobOptions { Root = portal.BlobRoot })),
            Options.Create(new ModelRunsOptions { OrphanOutputMinutes = 0 }), TimeProvider.System, NullLogger<OrphanOutputSweep>.Instance);
        Assert.Equal(1, await sweep.RunAsync(CancellationToken.None));
        Assert.Equal(0, await sweep.RunAsync(CancellationToken.None));
        await using (var ledger = PortalDb.Open(db))
        {
            Assert.False(await ledger.Set<StoredBlob>().AnyAsync(b => b.Id == secondOutput));
            Assert.True(await ledger.Set<StoredBlob>().AnyAsync(b => b.Id == honestBlob));
            Assert.True(await ledger.Set<StoredBlob>().AnyAsync(b => b.Id == modelBlob));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await developer.Http.GetAsync($"api/blobs/{secondOutput}")).StatusCode);
    }

    /// <summary>
    /// An agent that fails one unit and sits on the next with heartbeats only: the held lease ends for
    /// want of progress, the agent is quarantined (shown with the reason, and returned to work by its
    /// owner or an admin), and the job completes on an honest agent.
    /// </summary>
    [Fact]
    public async Task An_agent_that_fails_or_holds_its_units_is_quarantined_and_the_job_completes_elsewhere()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_hostile_leases");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-hostile-leases", new Dictionary<string, string>
        {
            ["Cocoon__Jobs__MaxSilentLeaseSeconds"] = "3",
            ["Cocoon__Jobs__QuarantineFailures"] = "2",
            ["Cocoon__Jobs__QuarantineWindow"] = "5",
        });
        await using var hostile = await ScriptedAgent.StartAsync(portal, "hostile");
        await portal.WaitForAgentsOnlineAsync(1);
        var job = await portal.SubmitAsync(new CreateJobRequest { Name = "held", MatrixSize = 64, MatrixCount = 48, MatricesPerUnit = 4, Seed = 5 });

        // Fails the first unit it gets, holds the second without reporting progress.
        var failed = await hostile.NextAssignmentAsync();
        Assert.Equal(ResultAck.Accepted, await hostile.FailAsync(failed.LeaseId, "out of memory"));
        var held = await hostile.NextAssignmentAsync();
        await using var honest = await AgentProcess.StartPairedAsync(portal, "honest");
        var done = await portal.WaitForJobAsync(job.Id, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Succeeded, done.State);

        await using (var ledger = PortalDb.Open(db))
        {
            var heldLease = await ledger.Leases.SingleAsync(l => l.Id == held.LeaseId);
            Assert.Equal(LeaseOutcome.Failed, heldLease.Outcome);
            var agent = await ledger.Agents.SingleAsync(a => a.Name == "hostile");
            Assert.NotNull(agent.QuarantinedAt);
            Assert.Contains("2 of its last 2 units failed", agent.QuarantineReason, StringComparison.Ordinal);
            Assert.False(await ledger.Leases.AnyAsync(l => l.AgentId == agent.Id && l.IssuedAt > agent.QuarantinedAt));
        }

        var listed = (await portal.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!.Single(a => a.Name == "hostile");
        Assert.NotNull(listed.QuarantineReason);
        Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.PostAsync($"api/agents/{listed.Id}/return-to-work", null)).StatusCode);
        Assert.Null((await portal.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!.Single(a => a.Name == "hostile").QuarantineReason);
        var stranger = await portal.SignInAsync(new TestWallet());
        (await stranger.PostAsync("api/account/provider", null)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"api/agents/{listed.Id}/return-to-work", null)).StatusCode);
    }

    /// <summary>A model the agents cannot run is the model's fault: two agents saying so fail the job with their message, and neither is quarantined.</summary>
    [Fact]
    public async Task Two_agents_refusing_the_model_fail_the_job_fast_with_its_message()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_model_refused");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-model-refused");
        await using var first = await ScriptedAgent.StartAsync(portal, "first");
        await using var second = await ScriptedAgent.StartAsync(portal, "second");

        using var developer = new SealedDeveloper(await portal.SignInAsync(new TestWallet()));
        var (job, _) = await SubmitModelJobAsync(developer);

        // A result for the other agent's lease is not this agent's to report.
        var (holder, lease) = await ScriptedAgent.FirstAssignmentAsync(first, second);
        var intruder = holder == first ? second : first;
        Assert.Equal(ResultAck.UnknownLease, await intruder.ReportAsync(lease.LeaseId, Guid.NewGuid(), new string('a', 64)));
        Assert.Equal(ResultAck.UnknownLease, await intruder.FailAsync(lease.LeaseId, "not mine"));
        await holder.FailAsync(lease.LeaseId, "The model uses operators this agent cannot run (opset 17): Foo (node 'n').", modelError: true);

        const string refusal = "The model uses operators this agent cannot run (opset 17): Foo (node 'n').";
        JobView current = job;
        for (var i = 0; i < 10 && current.State != JobState.Failed; i++)
        {
            foreach (var agent in new[] { first, second })
            {
                if (await agent.TryNextAssignmentAsync(TimeSpan.FromSeconds(2)) is { } assignment)
                {
                    await agent.FailAsync(assignment.LeaseId, refusal, modelError: true);
                }
            }

            current = (await developer.Http.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!;
        }

        Assert.Equal(JobState.Failed, current.State);
        Assert.Equal($"Two agents refused the model: {refusal}", current.FailureReason);
        await using var ledger = PortalDb.Open(db);
        Assert.False(await ledger.Agents.AnyAsync(a => a.QuarantinedAt != null));
    }

    /// <summary>
    /// Evidence binds the agent it was made for and the nonce the portal drew for the connection: another
    /// agent replaying it is refused, and so is its own agent replaying it on a later connection, or
    /// presenting any without asking for a nonce.
    /// </summary>
    [Fact]
    public async Task Another_agents_or_an_earlier_connections_evidence_is_refused()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_replayed_evidence");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-replayed-evidence");
        var (victim, victimDirectory) = await TestAgents.PairAsync(portal, "victim");
        var (thief, thiefDirectory) = await TestAgents.PairAsync(portal, "thief");
        using var victimKey = PairedCredentials.LoadKey(victimDirectory);
        using var enclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        // The victim registers honestly; its evidence is what an eavesdropper (or the portal's database) holds.
        EnclaveEvidence seen;
        await using (var victimHub = await TestAgents.ConnectHubAsync(portal, victim, victimDirectory))
        {
            var nonce = (await victimHub.InvokeAsync<AttestationChallenge>(nameof(IAgentHub.ChallengeAsync))).Nonce;
            seen = DevelopmentEvidence.Create(victimKey, victim.AgentId, Hpke.PublicKeyBytes(enclave), nonce, DateTimeOffset.UtcNow);
            await victimHub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), TestAgents.Hello(victim.AgentId, "victim") with { Enclave = seen });
        }

        async Task<string> RefusedAsync(HubConnection hub, Guid agentId, EnclaveEvidence evidence, bool challenge = true)
        {
            if (challenge)
            {
                await hub.InvokeAsync<AttestationChallenge>(nameof(IAgentHub.ChallengeAsync));
            }

            var refused = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() =>
                hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), TestAgents.Hello(agentId, "replay") with { Enclave = evidence }));
            Assert.Contains(AgentProtocol.RefusalPrefix, refused.Message, StringComparison.Ordinal);
            return refused.Message;
        }

        await using (var thiefHub = await TestAgents.ConnectHubAsync(portal, thief, thiefDirectory))
        {
            Assert.Contains("pairing key", await RefusedAsync(thiefHub, thief.AgentId, seen), StringComparison.Ordinal);
        }

        await using (var againHub = await TestAgents.ConnectHubAsync(portal, victim, victimDirectory))
        {
            Assert.Contains("replayed", await RefusedAsync(againHub, victim.AgentId, seen), StringComparison.Ordinal);
        }

        await using (var lazyHub = await TestAgents.ConnectHubAsync(portal, victim, victimDirectory))
        {
            Assert.Contains("nonce", await RefusedAsync(lazyHub, victim.AgentId, seen, challenge: false), StringComparison.Ordinal);
        }
    }

    /// <summary>A one-unit model job of a small MLP over <see cref="Rows"/> rows, its keys granted to every online agent.</summary>
    private static async Task<(JobView Job, Guid ModelId)> SubmitModelJobAsync(SealedDeveloper developer)
    {
        await developer.RegisterKeyAsync();
        var (onnx, _) = TestMlp.Build(4, 8, 2, seed: 3);
        var dataset = TensorFiles.WriteSafetensors(new Dictionary<string, Tensor> { ["x"] = new([Rows, 4], new float[Rows * 4]) });
        var (modelId, datasetId) = await developer.CreateAssetsAsync(onnx, dataset, Rows, outputElementsPerRow: 2);
        var submitted = await developer.SubmitAsync(await developer.RequestAsync(modelId, datasetId, Rows, await developer.CandidatesAsync()));
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        return ((await submitted.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!, modelId);
    }

    private static async Task<StoredBlob> Blob(string db, Guid id)
    {
        await using var ledger = PortalDb.Open(db);
        return await ledger.Set<StoredBlob>().AsNoTracking().SingleAsync(b => b.Id == id);
    }

    private sealed class LedgerFactory(string connectionString) : IDbContextFactory<CocoonDbContext>
    {
        public CocoonDbContext CreateDbContext() => PortalDb.Open(connectionString);
    }
}
