using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Agent.Inference;
using Cocoon.Agent.ModelRuns;
using Cocoon.Agent.Tests.Inference;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// Model jobs checked across agents: two real agents and one that reports made-up outputs (with a
/// validly signed, made-up plaintext digest) run a job with redundancy 2. Every unit the liar ran is
/// outvoted by a third agent, the liar is not paid and loses reputation, disputes record the signed
/// digests, and the developer receives the honest outputs. Then spot checks on the two honest agents.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class RedundancyTests(PostgresFixture postgres)
{
    private const int Inputs = 6;
    private const int Outputs = 4;
    private const int Rows = 600;
    private const int RowsPerUnit = 100;
    private const long Price = 1000 * Ton.Nano;

    [Fact]
    public async Task A_lying_agent_is_outvoted_unpaid_and_recorded_and_the_developer_gets_the_honest_output()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_redundancy");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-redundancy", new Dictionary<string, string>
        {
            ["Cocoon__Money__DefaultPricePerTflop"] = Price.ToString(CultureInfo.InvariantCulture),
        });
        await using var first = await AgentProcess.StartPairedAsync(portal, "honest-1");
        await using var second = await AgentProcess.StartPairedAsync(portal, "honest-2");
        await using var liar = await ScriptedAgent.StartAsync(portal, "liar", capacity: 2);
        await portal.WaitForAgentsOnlineAsync(3);

        var developer = new SealedDeveloper(await portal.SignInAsync(new TestWallet()));
        using var disposeDeveloper = developer;
        await developer.RegisterKeyAsync();
        var me = await developer.Http.GetFromJsonAsync<JsonElement>("api/auth/me");
        await using (var ledger = PortalDb.Open(db))
        {
            await using var tx = await ledger.Database.BeginTransactionAsync();
            await Deposits.CreditAsync(ledger, me.GetProperty("id").GetGuid(), 10 * Ton.Nano, "devnet-tx-redundancy", "deposit", DateTimeOffset.UtcNow, CancellationToken.None);
            await tx.CommitAsync();
        }

        var (onnx, reference) = TestMlp.Build(Inputs, 16, Outputs, seed: 21);
        var random = new Random(5);
        var x = Enumerable.Range(0, Rows * Inputs).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
        var dataset = TensorFiles.WriteSafetensors(new Dictionary<string, Tensor> { ["x"] = new([Rows, Inputs], x) });
        var (modelId, datasetId) = await developer.CreateAssetsAsync(onnx, dataset, Rows, outputElementsPerRow: Outputs);
        var agents = await developer.CandidatesAsync();
        var honestOnly = agents.Where(a => a.Name != "liar").ToList();

        // What a row of the model costs as the engine counts it: the liar reports that, so only the comparison can catch it.
        long flopsPerRow;
        using (var device = InferenceDevice.Cpu())
        {
            var model = OnnxModel.Load(onnx);
            device.Run(model, new Dictionary<string, Tensor> { ["x"] = new([1, Inputs], x[..Inputs]) }, out flopsPerRow, out _);
        }

        // Refused, each naming its field: too much redundancy, both kinds of check, too few agents granted.
        var request = await developer.RequestAsync(modelId, datasetId, RowsPerUnit, agents) with { Budget = Ton.Nano.ToString(CultureInfo.InvariantCulture) };
        Assert.Equal("redundancy", await ValidationProblems.ErrorFieldAsync(await developer.SubmitAsync(request with { Redundancy = 4 })));
        Assert.Equal("spotCheckPercent", await ValidationProblems.ErrorFieldAsync(await developer.SubmitAsync(request with { Redundancy = 2, SpotCheckPercent = 10 })));
        Assert.Equal("spotCheckPercent", await ValidationProblems.ErrorFieldAsync(await developer.SubmitAsync(request with { SpotCheckPercent = 101 })));
        var lonely = await developer.RequestAsync(modelId, datasetId, RowsPerUnit, honestOnly.Take(1)) with { Redundancy = 2 };
        Assert.Contains("2 distinct agents", await ValidationProblems.ErrorTextAsync(await developer.SubmitAsync(lonely), "redundancy"), StringComparison.Ordinal);

        // The liar answers every unit it is given at once, with a made-up output.
        using var stop = new CancellationTokenSource();
        var lies = 0;
        var lying = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (await liar.TryNextAssignmentAsync(TimeSpan.FromMilliseconds(200)) is { } assignment)
                {
                    await liar.LieAboutModelUnitAsync(assignment, flopsPerRow);
                    Interlocked.Increment(ref lies);
                }
            }
        });

        var submitted = await developer.SubmitAsync(request with { Redundancy = 2 });
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var job = (await submitted.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        var done = await FinishedAsync(developer, job.Id);
        await stop.CancelAsync();
        await lying;
        Assert.True(done.State == JobState.Succeeded, done.FailureReason);
        Assert.Equal(Rows / RowsPerUnit, done.UnitsTotal);
        Assert.Equal(Rows / RowsPerUnit, done.UnitsDone);
        Assert.True(lies > 0, "the liar was given no unit");
        Assert.Equal(lies, done.Outvoted);

        // The developer gets the honest output of every unit, whichever copy ran first, and checks it
        // against the digest the majority signed (keyed from the dataset key, which the portal lacks).
        var outputs = await developer.OutputsAsync(job.Id);
        Assert.Equal(Rows / RowsPerUnit, outputs.Count);
        var digestKey = OutputStatement.DigestKey(await developer.DatasetFileKeyAsync(datasetId));
        foreach (var (unit, plain) in outputs)
        {
            Assert.Equal(unit.PlainDigest, OutputStatement.Digest(digestKey, plain));
            var entries = await Safetensors.ReadHeaderAsync((o, l) => Task.FromResult(plain.AsSpan((int)o, l).ToArray()), plain.Length);
            var y = await Safetensors.ReadRowsAsync(entries.Single(e => e.Name == "y"), 0, unit.RowCount, (o, l) => Task.FromResult(plain.AsSpan((int)o, l).ToArray()));
            var expected = reference(x.AsSpan((int)unit.FirstRow * Inputs, unit.RowCount * Inputs).ToArray(), unit.RowCount);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - y.Data[i]) <= 1e-4f * Math.Max(1, Math.Abs(expected[i])), $"unit {unit.UnitIndex} value {i}: {y.Data[i]} vs {expected[i]}");
            }
        }

        var views = (await developer.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!;
        var liarView = views.Single(a => a.Id == liar.Id);
        await using (var ledger = PortalDb.Open(db))
        {
            var units = await ledger.WorkUnits.AsNoTracking().Where(u => u.JobId == job.Id).ToListAsync();
            var leases = await ledger.Leases.AsNoTracking().Where(l => units.Select(u => u.Id).Contains(l.WorkUnitId)).ToListAsync();
            var liarCopies = units.Where(u => leases.Any(l => l.Id == u.CurrentLeaseId && l.AgentId == liar.Id)).ToList();

            // Each copy the liar ran lost its vote, and its unit took a third copy on the other honest agent.
            Assert.Equal(lies, liarCopies.Count);
            Assert.All(liarCopies, c => Assert.Equal(UnitVote.Outvoted, c.Vote));
            Assert.All(liarCopies, c => Assert.Equal(3, units.Count(u => u.Index == c.Index)));
            Assert.All(units.Where(u => u.CurrentLeaseId is { } id && leases.Single(l => l.Id == id).AgentId != liar.Id), u => Assert.Equal(UnitVote.Agreed, u.Vote));
            Assert.All(leases.Where(l => l.AgentId == liar.Id), l => Assert.Equal(LeaseOutcome.Failed, l.Outcome));
            Assert.All(leases, l => Assert.False(l.AwaitingVote));
            Assert.All(units.GroupBy(u => u.Index), g => Assert.Equal(2, g.Select(u => leases.Single(l => l.Id == u.CurrentLeaseId).AgentId).Distinct().Count(a => a != liar.Id)));

            // Disputes name the liar with both digests and the signed evidence.
            var disputes = await ledger.Set<Dispute>().AsNoTracking().Where(d => d.JobId == job.Id).ToListAsync();
            Assert.Equal(lies, disputes.Count);
            Assert.All(disputes, d =>
            {
                Assert.Equal("Vote", d.Kind);
                Assert.Equal(liar.Id, d.AgentId);
                Assert.NotEqual(d.Expected, d.Reported);
                Assert.Contains(d.Expected, d.Evidence, StringComparison.Ordinal);
                Assert.Contains("signature", d.Evidence, StringComparison.Ordinal);
            });

            // Paid: each agreeing copy once; the liar nothing. The ledger still balances.
            var settled = await ledger.Set<LedgerTransaction>().AsNoTracking().Where(t => t.JobId == job.Id && t.Kind == "settle").ToListAsync();
            Assert.DoesNotContain(settled, t => t.AgentId == liar.Id);
            Assert.Equal(units.Count(u => u.Vote == UnitVote.Agreed), settled.Count);
            Assert.Equal(0, await ledger.Set<LedgerAccount>().SumAsync(a => a.Balance));
        }

        Assert.Equal("0", (await developer.Http.GetFromJsonAsync<BalanceView>("api/account/balance"))!.Held);

        // Reputation: the liar's outvoted leases count as failures.
        var honestView = views.Single(a => a.Id == honestOnly[0].Id);
        Assert.True(liarView.Reputation < honestView.Reputation, $"liar {liarView.Reputation}, honest {honestView.Reputation}");

        // Spot checks on every unit between the two honest agents: all agree and all are paid.
        var spot = await developer.SubmitAsync(await developer.RequestAsync(modelId, datasetId, RowsPerUnit, honestOnly) with
        {
            Budget = Ton.Nano.ToString(CultureInfo.InvariantCulture),
            SpotCheckPercent = 100,
        });
        Assert.Equal(HttpStatusCode.Created, spot.StatusCode);
        var spotJob = await FinishedAsync(developer, (await spot.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!.Id);
        Assert.Equal(JobState.Succeeded, spotJob.State);
        Assert.Equal(Rows / RowsPerUnit, spotJob.CheckCopies);
        Assert.Equal(0, spotJob.Outvoted);
        var spotUnits = await developer.Http.GetFromJsonAsync<IReadOnlyList<WorkUnitView>>($"api/jobs/{spotJob.Id}/units", PortalProcess.Json);
        Assert.All(spotUnits!, u => Assert.Equal("agreed", u.Vote));
        Assert.Equal(Rows / RowsPerUnit, (await developer.OutputsAsync(spotJob.Id)).Count);
    }

    /// <summary>
    /// A checked job's results must carry the agent's own signature over its output digest; and one agent
    /// never holds two copies of a unit, so it cannot agree with itself.
    /// </summary>
    [Fact]
    public async Task Unsigned_or_forged_digests_are_refused_and_copies_stay_on_distinct_agents()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_redundancy_signed");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-redundancy-signed");
        await using var a = await ScriptedAgent.StartAsync(portal, "a");
        await using var b = await ScriptedAgent.StartAsync(portal, "b");
        await portal.WaitForAgentsOnlineAsync(2);
        var developer = new SealedDeveloper(await portal.SignInAsync(new TestWallet()));
        using var disposeDeveloper = developer;
        await developer.RegisterKeyAsync();
        var (onnx, _) = TestMlp.Build(Inputs, 8, Outputs, seed: 3);
        var dataset = TensorFiles.WriteSafetensors(new Dictionary<string, Tensor> { ["x"] = new([8, Inputs], new float[8 * Inputs]) });
        var (modelId, datasetId) = await developer.CreateAssetsAsync(onnx, dataset, 8, outputElementsPerRow: Outputs);
        var submitted = await developer.SubmitAsync(await developer.RequestAsync(modelId, datasetId, 8, await developer.CandidatesAsync()) with { Redundancy = 2 });
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var job = (await submitted.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;

        // Each agent gets one copy of the one unit, never both.
        var first = await a.NextAssignmentAsync();
        var second = await b.NextAssignmentAsync();
        Assert.Equal(first.UnitIndex, second.UnitIndex);
        Assert.NotEqual(first.UnitId, second.UnitId);
        const string digest = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

        // No signature, then another agent's signature: both refused, and the copy comes back to a (b holds the other).
        Assert.Equal(ResultAck.Rejected, await a.ReportModelUnitAsync(first, 100, digest, null));
        var again = await a.NextAssignmentAsync();
        Assert.Equal(first.UnitId, again.UnitId);
        Assert.Equal(ResultAck.Rejected, await a.ReportModelUnitAsync(again, 100, digest, b.SignOutput(again.LeaseId, digest)));
        var third = await a.NextAssignmentAsync();
        Assert.Equal(first.UnitId, third.UnitId);

        // Signed by their own keys and agreeing: the unit is done and the job succeeds.
        Assert.Equal(ResultAck.Accepted, await a.ReportModelUnitAsync(third, 100, digest, a.SignOutput(third.LeaseId, digest)));
        Assert.Equal(ResultAck.Accepted, await b.ReportModelUnitAsync(second, 100, digest, b.SignOutput(second.LeaseId, digest)));
        var done = await FinishedAsync(developer, job.Id);
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(1, done.UnitsDone);
        await using var ledger = PortalDb.Open(db);
        var copies = await ledger.WorkUnits.AsNoTracking().Where(u => u.JobId == job.Id).ToListAsync();
        Assert.Equal(2, copies.Count);
        Assert.All(copies, c => Assert.Equal(UnitVote.Agreed, c.Vote));
        Assert.Equal(new[] { a.Id, b.Id }.Order(), copies.Select(c => c.AgentId!.Value).Order());
        Assert.Equal(2, await ledger.Leases.CountAsync(l => l.AgentId == a.Id && l.Outcome == LeaseOutcome.Failed));
    }

    private static async Task<JobView> FinishedAsync(SealedDeveloper developer, Guid jobId)
    {
        JobView done = null!;
        await Eventually.HoldsAsync(async () =>
        {
            done = (await developer.Http.GetFromJsonAsync<JobView>($"api/jobs/{jobId}", PortalProcess.Json))!;
            return done.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
        }, TimeSpan.FromMinutes(2), "the model job to finish", 100);
        return done;
    }
}
