using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// Matching through the real portal: a cheap, slow CPU agent and a dear, fast GPU agent (scripted
/// SignalR clients with real pairings), and jobs that ask for a device class, a score, attestation or a
/// reputation, or choose by strategy. Each rule sends the unit to the agent that meets it, or leaves it
/// waiting with the reason on the job; bad options are refused with problem details.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class MatchingTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Units_go_only_to_agents_that_meet_the_job_and_the_strategy_chooses_among_them()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_matching");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-matching");
        var developer = await portal.SignInAsync(new TestWallet());
        var developerId = (await developer.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid();
        await using (var ledger = PortalDb.Open(db))
        {
            await using var tx = await ledger.Database.BeginTransactionAsync();
            await Deposits.CreditAsync(ledger, developerId, 10 * Ton.Nano, "matching-deposit", "deposit", DateTimeOffset.UtcNow, CancellationToken.None);
            await tx.CommitAsync();
        }

        await using var cpu = await ScriptedAgent.StartAsync(portal, "cpu-cheap", capacity: 2, device: DeviceKind.Cpu, benchmark: 10);
        await using var gpu = await ScriptedAgent.StartAsync(portal, "gpu-fast", device: DeviceKind.Cuda, benchmark: 100);
        Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.PutAsJsonAsync($"api/agents/{cpu.Id}/price", new { pricePerTflop = "1000" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.PutAsJsonAsync($"api/agents/{gpu.Id}/price", new { pricePerTflop = "5000" })).StatusCode);
        await portal.WaitForAgentsOnlineAsync(2);
        var agents = (await portal.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!;
        Assert.Equal(100, agents.Single(a => a.Id == gpu.Id).BenchmarkScore);
        Assert.Equal(0.5, agents.Single(a => a.Id == gpu.Id).Reputation); // no units yet: one half

        // The CPU agent holds one unit of its two: balanced takes the less loaded GPU agent, cheapest the
        // CPU agent, fastest the GPU agent; then each rule that only one agent meets.
        var holder = await SubmitAsync(developer, new MatchingOptions { DeviceClass = "cpu" }, units: 1);
        var held = await cpu.NextAssignmentAsync();
        Assert.Equal(holder.Id, held.JobId);
        (MatchingOptions? Options, ScriptedAgent Expected)[] cases =
        [
            (null, gpu),
            (new MatchingOptions { Strategy = "cheapest" }, cpu),
            (new MatchingOptions { Strategy = "fastest" }, gpu),
            (new MatchingOptions { DeviceClass = "gpu", Strategy = "cheapest" }, gpu),
            (new MatchingOptions { DeviceClass = "CPU", Strategy = "fastest" }, cpu),
            (new MatchingOptions { MinBenchmarkScore = 50 }, gpu),
        ];
        foreach (var (options, expected) in cases)
        {
            var job = await SubmitAsync(developer, options, units: 1);
            var (taker, assignment) = await ScriptedAgent.FirstAssignmentAsync(cpu, gpu);
            Assert.True(ReferenceEquals(expected, taker), $"{JsonSerializer.Serialize(options)} went to {(ReferenceEquals(taker, cpu) ? "cpu" : "gpu")}");
            Assert.Equal(job.Id, assignment.JobId);
            Assert.Equal(ResultAck.Accepted, await taker.CompleteAsync(assignment));
            Assert.Equal(JobState.Succeeded, (await portal.WaitForJobAsync(job.Id, TimeSpan.FromSeconds(30))).State);
        }

        Assert.Equal(ResultAck.Accepted, await cpu.CompleteAsync(held));

        // Rules no agent meets: the units wait, and the job says why; nothing is handed out, and the
        // dispatcher does not even ask for them (they would take a turn from work that can run).
        (MatchingOptions Options, string Reason)[] waiting =
        [
            (new MatchingOptions { AttestedOnly = true }, "No agent with TDX attestation"),
            (new MatchingOptions { MinReputation = 0.99 }, "reputation of at least 99"),
            (new MatchingOptions { MinBenchmarkScore = 1000 }, "benchmark score of at least 1,000.0 GFLOP/s (the best has 100.0)"),
        ];
        foreach (var (options, reason) in waiting)
        {
            var job = await SubmitAsync(developer, options, units: 1);
            await Eventually.HoldsAsync(async () => (await developer.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!.Waiting?.Contains(reason, StringComparison.Ordinal) == true,
                TimeSpan.FromSeconds(20), $"the job to say it waits: {reason}");
            Assert.Null(await cpu.TryNextAssignmentAsync(TimeSpan.FromMilliseconds(200)));
            Assert.Null(await gpu.TryNextAssignmentAsync(TimeSpan.FromMilliseconds(200)));
            await using (var ledger = PortalDb.Open(db))
            {
                Assert.False(await ledger.WorkUnits.AnyAsync(u => u.JobId == job.Id && (u.DispatchRequestedAt != null || u.Attempts > 0)));
            }

            Assert.Equal(HttpStatusCode.OK, (await developer.PostAsync($"api/jobs/{job.Id}/cancel", null)).StatusCode);
        }

        // Four units, three slots: the fourth waits for a busy agent.
        var busy = await SubmitAsync(developer, null, units: 4);
        List<WorkAssignment> onCpu = [await cpu.NextAssignmentAsync(), await cpu.NextAssignmentAsync()];
        var onGpu = await gpu.NextAssignmentAsync();
        await Eventually.HoldsAsync(async () => (await developer.GetFromJsonAsync<JobView>($"api/jobs/{busy.Id}", PortalProcess.Json))!.Waiting == "All 2 agents that qualify are busy (3 unit(s) running on them).",
            TimeSpan.FromSeconds(20), "the job to say both agents are busy");
        Assert.Equal(ResultAck.Accepted, await gpu.CompleteAsync(onGpu));
        var fourth = await gpu.NextAssignmentAsync();
        Assert.Equal(ResultAck.Accepted, await gpu.CompleteAsync(fourth));
        foreach (var assignment in onCpu)
        {
            Assert.Equal(ResultAck.Accepted, await cpu.CompleteAsync(assignment));
        }
        var done = await portal.WaitForJobAsync(busy.Id, TimeSpan.FromSeconds(30));
        Assert.Equal((JobState.Succeeded, (string?)null), (done.State, done.Waiting));
        Assert.Equal("cheapest", (await SubmitAsync(developer, new MatchingOptions { Strategy = "Cheapest", DeviceClass = "GPU" }, units: 1, cancel: true)).Matching!.Strategy);

        // Reputation counts what each did: units done, none failed.
        agents = (await portal.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!;
        Assert.All(agents, a => Assert.True(a.Reputation > 0.5 && a.ReputationUnits >= 3, $"{a.Name}: {a.Reputation} over {a.ReputationUnits}"));

        // Options out of range are refused, each named.
        foreach (var (options, field) in new (MatchingOptions, string)[]
        {
            (new MatchingOptions { DeviceClass = "tpu" }, "matching.deviceClass"),
            (new MatchingOptions { DeviceClass = "1" }, "matching.deviceClass"),
            (new MatchingOptions { Strategy = "random" }, "matching.strategy"),
            (new MatchingOptions { MinReputation = 1.5 }, "matching.minReputation"),
            (new MatchingOptions { MinBenchmarkScore = -1 }, "matching.minBenchmarkScore"),
        })
        {
            var response = await developer.PostAsJsonAsync("api/jobs", Request(options, 1), PortalProcess.Json);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field}: {problem}");
        }
    }

    private static CreateJobRequest Request(MatchingOptions? options, int units) =>
        new() { Name = "match", MatrixSize = 16, MatrixCount = units, MatricesPerUnit = 1, Budget = "100000000", Matching = options };

    private static async Task<JobView> SubmitAsync(HttpClient developer, MatchingOptions? options, int units, bool cancel = false)
    {
        var response = await developer.PostAsJsonAsync("api/jobs", Request(options, units), PortalProcess.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        if (cancel)
        {
            Assert.Equal(HttpStatusCode.OK, (await developer.PostAsync($"api/jobs/{job.Id}/cancel", null)).StatusCode);
        }

        return job;
    }
}
