using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Agent.Inference;
using Cocoon.Agent.ModelRuns;
using Cocoon.Agent.Tests.Inference;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// Model jobs end to end: a developer (the browser's part played in C#) seals a model and a
/// dataset, grants their keys to one agent, and reads the sealed outputs; real portal, real agents.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ModelJobTests(PostgresFixture postgres)
{
    private const int Inputs = 6;
    private const int Outputs = 4;
    private const int Rows = 1000;

    [Fact]
    public async Task Only_the_granted_agent_runs_the_job_and_only_the_developer_reads_its_outputs()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_model_job");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-model-job");
        await using var allowed = await AgentProcess.StartPairedAsync(portal, "allowed");
        await using var bystander = await AgentProcess.StartPairedAsync(portal, "bystander");
        await portal.WaitForAgentsOnlineAsync(2);

        using var developer = new SealedDeveloper(await portal.SignInAsync(new TestWallet()));
        var (onnx, reference) = TestMlp.Build(Inputs, 16, Outputs, seed: 7);
        var random = new Random(11);
        var x = Enumerable.Range(0, Rows * Inputs).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
        var dataset = TensorFiles.WriteSafetensors(new Dictionary<string, Tensor>
        {
            ["x"] = new([Rows, Inputs], x),
            ["label"] = new([Rows, 1], new float[Rows]),
        });
        var (modelId, datasetId) = await developer.CreateAssetsAsync(onnx, dataset, Rows, outputElementsPerRow: Outputs);

        var candidates = await developer.CandidatesAsync();
        Assert.Equal(["allowed", "bystander"], candidates.Select(a => a.Name).Order());
        Assert.All(candidates, a =>
        {
            Assert.Equal(EvidenceKind.Development, a.Evidence);
            Assert.False(a.HardwareAttested);
            Assert.Equal(65, a.EnclaveKey!.Length);
        });
        var allowedAgent = candidates.Single(a => a.Name == "allowed");
        var bystanderAgent = candidates.Single(a => a.Name == "bystander");

        // Refusals, each with the field to fix; nothing is recorded.
        var noKey = await developer.SubmitAsync(await developer.RequestAsync(modelId, datasetId, 128, [allowedAgent]));
        Assert.Equal("outputKey", await ValidationProblems.ErrorFieldAsync(noKey));
        await developer.RegisterKeyAsync();
        var staleKey = await developer.RequestAsync(modelId, datasetId, 128, [allowedAgent with { EnclaveKey = bystanderAgent.EnclaveKey }]);
        Assert.Contains("restarted", await ValidationProblems.ErrorTextAsync(await developer.SubmitAsync(staleKey), "grants"), StringComparison.Ordinal);
        var good = await developer.RequestAsync(modelId, datasetId, 128, [allowedAgent]);
        Assert.Contains("not hardware-attested", await ValidationProblems.ErrorTextAsync(await developer.SubmitAsync(good with { AttestedOnly = true }), "grants"), StringComparison.Ordinal);
        var shortGrant = good with { Grants = [good.Grants![0] with { ModelGrant = good.Grants[0].ModelGrant![..100] }] };
        Assert.Equal("grants", await ValidationProblems.ErrorFieldAsync(await developer.SubmitAsync(shortGrant)));
        Assert.Equal("rowsPerUnit", await ValidationProblems.ErrorFieldAsync(await developer.SubmitAsync(good with { RowsPerUnit = 0 })));
        await using (var ledger = PortalDb.Open(db))
        {
            Assert.Equal(0, await ledger.Jobs.CountAsync());
        }

        var submitted = await developer.SubmitAsync(good);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var job = (await submitted.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        Assert.Equal(JobKind.Model, job.Kind);
        JobView done = null!;
        await Eventually.HoldsAsync(async () =>
        {
            done = (await developer.Http.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!;
            return done.State is JobState.Succeeded or JobState.Failed;
        }, TimeSpan.FromMinutes(2), "the model job to finish", 100);
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(8, done.UnitsTotal);

        await using (var ledger = PortalDb.Open(db))
        {
            var agents = await ledger.Leases.Join(ledger.WorkUnits.Where(u => u.JobId == job.Id), l => l.WorkUnitId, u => u.Id, (l, u) => l.AgentId).Distinct().ToListAsync();
            Assert.Equal([allowedAgent.Id], agents);
        }

        // Every unit's output opens with the developer's key and equals the model applied to its rows.
        var outputs = await developer.OutputsAsync(job.Id);
        Assert.Equal(8, outputs.Count);
        foreach (var (unit, plain) in outputs)
        {
            var entries = await Safetensors.ReadHeaderAsync((o, l) => Task.FromResult(plain.AsSpan((int)o, l).ToArray()), plain.Length);
            var y = await Safetensors.ReadRowsAsync(entries.Single(e => e.Name == "y"), 0, unit.RowCount, (o, l) => Task.FromResult(plain.AsSpan((int)o, l).ToArray()));
            var expected = reference(x.AsSpan((int)unit.FirstRow * Inputs, unit.RowCount * Inputs).ToArray(), unit.RowCount);
            Assert.Equal([unit.RowCount, Outputs], y.Shape);
            AssertRows(expected, y.Data, unit.UnitIndex);
        }

        // Nobody else reads the outputs or the job's inputs: not another account, not another agent.
        var stranger = await portal.SignInAsync(new TestWallet());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"api/model-jobs/{job.Id}/outputs")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"api/blobs/{outputs[0].Unit.BlobId}")).StatusCode);
        var (credentials, directory) = await TestAgents.PairAsync(portal, "intruder");
        using var intruder = portal.NewClient();
        intruder.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TestAgents.AccessTokenAsync(portal, credentials, directory));
        Guid someLease;
        await using (var ledger = PortalDb.Open(db))
        {
            someLease = await ledger.Leases.Where(l => l.Outcome == LeaseOutcome.Succeeded).Select(l => l.Id).FirstAsync();
        }

        var model = await developer.Http.GetFromJsonAsync<JsonElement>($"api/models/{modelId}");
        Assert.Equal(HttpStatusCode.NotFound, (await intruder.GetAsync($"api/agent/leases/{someLease}/blobs/{model.GetProperty("blobId").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await intruder.PutAsync($"api/agent/leases/{someLease}/output", new ByteArrayContent([1, 2, 3]))).StatusCode);

        // Once the job is done its model may go; the outputs stay.
        Assert.Equal(HttpStatusCode.NoContent, (await developer.Http.DeleteAsync($"api/models/{modelId}")).StatusCode);
        Assert.Equal(8, (await developer.OutputsAsync(job.Id)).Count);
        Assert.DoesNotContain("Unhandled", allowed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_job_survives_a_portal_restart_and_the_agent_renews_its_token()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_model_restart");
        var port = FreePort.Next();
        var portal = await PortalProcess.StartAsync(db, port, "portal-model-restart-1");
        await using var agent = await AgentProcess.StartPairedAsync(portal, "steady");
        await portal.WaitForAgentsOnlineAsync(1);
        var wallet = new TestWallet();
        using var developer = new SealedDeveloper(await portal.SignInAsync(wallet));
        await developer.RegisterKeyAsync();
        var (onnx, reference) = TestMlp.Build(Inputs, 16, Outputs, seed: 5);
        const int rows = 3000;
        var x = Enumerable.Range(0, rows * Inputs).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
        var (modelId, datasetId) = await developer.CreateAssetsAsync(onnx, TensorFiles.WriteSafetensors(new Dictionary<string, Tensor> { ["x"] = new([rows, Inputs], x) }), rows, outputElementsPerRow: Outputs);
        var agents = await developer.CandidatesAsync();
        var submitted = await developer.SubmitAsync(await developer.RequestAsync(modelId, datasetId, 10, agents));
        var job = (await submitted.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        await Eventually.HoldsAsync(async () => (await developer.Http.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!.UnitsDone >= 5,
            TimeSpan.FromMinutes(1), "five units before the restart");

        // The restarted portal signs tokens with new keys: the agent's cached one is refused and must be renewed.
        await portal.StopAsync();
        await portal.DisposeAsync();
        await using var restarted = await PortalProcess.StartAsync(db, port, "portal-model-restart-2", new Dictionary<string, string> { ["Cocoon__Blobs__Root"] = portal.BlobRoot });
        using var again = new SealedDeveloper(await restarted.SignInAsync(wallet), developer.Key);
        JobView done = null!;
        await Eventually.HoldsAsync(async () =>
        {
            done = (await again.Http.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!;
            return done.State is JobState.Succeeded or JobState.Failed;
        }, TimeSpan.FromMinutes(3), "the model job to finish after the restart", 200);

        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.FailureReason}");
        Assert.True(done.UnitsDone > 5 && done.UnitsTotal == 300);
        var outputs = await again.OutputsAsync(job.Id);
        Assert.Equal(300, outputs.Count);
        foreach (var (unit, plain) in outputs.Where((_, i) => i % 37 == 0))
        {
            var y = TensorFiles.ReadSafetensors(plain)["y"];
            AssertRows(reference(x.AsSpan((int)unit.FirstRow * Inputs, unit.RowCount * Inputs).ToArray(), unit.RowCount), y.Data, unit.UnitIndex);
        }
    }

    [Fact]
    public async Task Agents_that_count_other_flops_than_the_job_was_priced_at_refuse_its_units()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_model_flops");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-model-flops");
        await using var first = await AgentProcess.StartPairedAsync(portal, "first");
        await using var second = await AgentProcess.StartPairedAsync(portal, "second");
        await portal.WaitForAgentsOnlineAsync(2);
        using var developer = new SealedDeveloper(await portal.SignInAsync(new TestWallet()));
        await developer.RegisterKeyAsync();
        var (onnx, _) = TestMlp.Build(Inputs, 16, Outputs, seed: 9);
        const int rows = 4000;
        var x = Enumerable.Range(0, rows * Inputs).Select(i => (float)Math.Cos(i * 0.11)).ToArray();
        var (modelId, datasetId) = await developer.CreateAssetsAsync(onnx, TensorFiles.WriteSafetensors(new Dictionary<string, Tensor> { ["x"] = new([rows, Inputs], x) }), rows, outputElementsPerRow: Outputs);
        var submitted = await developer.SubmitAsync(await developer.RequestAsync(modelId, datasetId, 10, await developer.CandidatesAsync()));
        var job = (await submitted.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;

        // The first unit fixes what a row costs; then the figure is made wrong, as an agent inflating its first count would.
        long counted = 0;
        await Eventually.HoldsAsync(async () =>
        {
            await using var ledger = PortalDb.Open(db);
            counted = await ledger.Jobs.Where(j => j.Id == job.Id).Select(j => j.FlopsPerRow ?? 0).SingleAsync();
            return counted > 0;
        }, TimeSpan.FromMinutes(1), "the first unit to count the model's FLOPs");
        await using (var ledger = PortalDb.Open(db))
        {
            await ledger.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.FlopsPerRow, counted * 3));
        }

        var done = await portal.WaitForJobAsync(job.Id, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("Two agents refused the model", done.FailureReason, StringComparison.Ordinal);
        Assert.Contains($"counts {counted:N0} FLOPs per row", done.FailureReason, StringComparison.Ordinal);
        Assert.Contains($"priced at {counted * 3:N0}", done.FailureReason, StringComparison.Ordinal);
        Assert.True(done.UnitsDone < 400);
    }

    private static void AssertRows(float[] expected, float[] actual, int unit)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"unit {unit} element {i}: {actual[i]} vs {expected[i]}");
        }
    }
}
