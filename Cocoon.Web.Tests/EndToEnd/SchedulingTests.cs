using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// Scheduling through the real portal, its Hangfire dispatch and a scripted agent of capacity 4 (a
/// real SignalR client with a real pairing): two accounts share the agent by weight whatever their
/// jobs' sizes, an account's limit caps its running units, an owner's priority orders their own jobs,
/// and a failed job is retried with its budget held again, the ledger exact at the end.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class SchedulingTests(PostgresFixture postgres)
{
    // 1000 TON per TFLOP: a unit's cost is its FLOP count in nanotons (2 × 16³ = 8,192), 10 % on top.
    private const long Price = 1000 * Ton.Nano;

    private const long UnitCharge = 8192 + 819;

    [Fact]
    public async Task Accounts_share_capacity_by_weight_and_owners_steer_and_retry_their_jobs()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_scheduling");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-scheduling", new Dictionary<string, string>
        {
            ["Cocoon__Money__DefaultPricePerTflop"] = Price.ToString(CultureInfo.InvariantCulture),
            ["Cocoon__Money__FeePercent"] = "10",
            ["Cocoon__Jobs__FailingAgentsPerUnit"] = "1",
        });
        var (alice, aliceId) = await FundedDeveloperAsync(portal, db, "alice-deposit");
        var (bob, bobId) = await FundedDeveloperAsync(portal, db, "bob-deposit");

        // Equal weights: Alice's twelve-unit job, queued first, does not starve Bob's two units.
        var a1 = await SubmitAsync(portal, alice, "a-big", 12);
        var b1 = await SubmitAsync(portal, bob, "b-small", 2);
        await using (var agent = await ScriptedAgent.StartAsync(portal, "shared-1", capacity: 4))
        {
            var first = await TakeAsync(agent, 4);
            Assert.Equal(2, first.Count(a => a.JobId == b1.Id));
            Assert.Equal(2, first.Count(a => a.JobId == a1.Id));
            await DrainAsync(portal, agent, first, a1.Id, b1.Id);
        }

        // Weights 1 : 3, both with eight units waiting: Bob takes three of the four slots.
        Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.PutAsJsonAsync($"api/admin/accounts/{bobId}/share", new { weight = 3 })).StatusCode);
        await AssertProblemAsync(await portal.Http.PutAsJsonAsync($"api/admin/accounts/{bobId}/share", new { weight = 0 }), HttpStatusCode.BadRequest, "weight");
        await AssertProblemAsync(await portal.Http.PutAsJsonAsync($"api/admin/accounts/{bobId}/share", new { weight = 2, maxConcurrentUnits = -1 }), HttpStatusCode.BadRequest, "maxConcurrentUnits");
        await AssertProblemAsync(await portal.Http.PutAsJsonAsync($"api/admin/accounts/{bobId}/share", new { }), HttpStatusCode.BadRequest, "weight");
        await AssertProblemAsync(await portal.Http.PutAsJsonAsync($"api/admin/accounts/{Guid.NewGuid()}/share", new { weight = 2 }), HttpStatusCode.NotFound, "account");
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.PutAsJsonAsync($"api/admin/accounts/{aliceId}/share", new { weight = 100 })).StatusCode);
        var accounts = await portal.Http.GetFromJsonAsync<JsonElement>("api/admin/accounts");
        Assert.Equal(3, accounts.EnumerateArray().Single(a => a.GetProperty("id").GetGuid() == bobId).GetProperty("shareWeight").GetInt32());

        var a2 = await SubmitAsync(portal, alice, "a-weighted", 8);
        var b2 = await SubmitAsync(portal, bob, "b-weighted", 8);
        await using (var agent = await ScriptedAgent.StartAsync(portal, "shared-2", capacity: 4))
        {
            var first = await TakeAsync(agent, 4);
            Assert.Equal(3, first.Count(a => a.JobId == b2.Id));
            Assert.Equal(1, first.Count(a => a.JobId == a2.Id));
            await DrainAsync(portal, agent, first, a2.Id, b2.Id);
        }

        // Alice may run two units at once; her newer job at priority 5 goes before her older one.
        Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.PutAsJsonAsync($"api/admin/accounts/{aliceId}/share", new { weight = 1, maxConcurrentUnits = 2 })).StatusCode);
        var older = await SubmitAsync(portal, alice, "a-older", 4);
        var urgent = await SubmitAsync(portal, alice, "a-urgent", 4);
        var raised = await alice.PostAsJsonAsync($"api/jobs/{urgent.Id}/priority", new SetPriorityRequest { Priority = 5 }, PortalProcess.Json);
        Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        Assert.Equal(5, (await raised.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!.Priority);
        await AssertProblemAsync(await alice.PostAsJsonAsync($"api/jobs/{urgent.Id}/priority", new SetPriorityRequest { Priority = 11 }, PortalProcess.Json), HttpStatusCode.BadRequest, "between -10 and 10");
        await AssertProblemAsync(await alice.PostAsJsonAsync($"api/jobs/{urgent.Id}/priority", new SetPriorityRequest(), PortalProcess.Json), HttpStatusCode.BadRequest, "priority");
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsJsonAsync($"api/jobs/{urgent.Id}/priority", new SetPriorityRequest { Priority = 1 }, PortalProcess.Json)).StatusCode);
        await AssertProblemAsync(await alice.PostAsJsonAsync($"api/jobs/{a1.Id}/priority", new SetPriorityRequest { Priority = 1 }, PortalProcess.Json), HttpStatusCode.Conflict, "succeeded");
        await using (var agent = await ScriptedAgent.StartAsync(portal, "shared-3", capacity: 4))
        {
            var first = await TakeAsync(agent, 2);
            Assert.All(first, a => Assert.Equal(urgent.Id, a.JobId));
            Assert.Null(await agent.TryNextAssignmentAsync(TimeSpan.FromSeconds(3))); // two free slots, but Alice is at her limit
            Assert.Equal(ResultAck.Accepted, await agent.CompleteAsync(first[0]));
            var third = await agent.NextAssignmentAsync();
            Assert.Equal(urgent.Id, third.JobId);
            await DrainAsync(portal, agent, [first[1], third], older.Id, urgent.Id);
        }

        // A failed job: only a failed one can be retried, by its owner; the retry holds its budget again.
        Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.PutAsJsonAsync($"api/admin/accounts/{aliceId}/share", new { weight = 1 })).StatusCode);
        var flaky = await SubmitAsync(portal, alice, "a-flaky", 3);
        await using (var agent = await ScriptedAgent.StartAsync(portal, "shared-4", capacity: 4))
        {
            var first = await TakeAsync(agent, 3);
            Assert.Equal(ResultAck.Accepted, await agent.CompleteAsync(first[0]));
            Assert.Equal(ResultAck.Accepted, await agent.FailAsync(first[1].LeaseId, "out of memory"));
            var failed = await portal.WaitForJobAsync(flaky.Id, TimeSpan.FromMinutes(1));
            Assert.Equal(JobState.Failed, failed.State);
            Assert.Equal("0", (await alice.GetFromJsonAsync<BalanceView>("api/account/balance"))!.Held);

            Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsync($"api/jobs/{flaky.Id}/retry", null)).StatusCode);
            await AssertProblemAsync(await alice.PostAsync($"api/jobs/{a1.Id}/retry", null), HttpStatusCode.Conflict, "Only a failed job");
            var retried = await alice.PostAsync($"api/jobs/{flaky.Id}/retry", null);
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
            var view = (await retried.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
            Assert.Equal((JobState.Running, 1, null), (view.State, view.Retries, view.FailureReason));
            Assert.Equal((1_000_000_000L - UnitCharge).ToString(CultureInfo.InvariantCulture), (await alice.GetFromJsonAsync<BalanceView>("api/account/balance"))!.Held);

            // The failed unit and the one its failure stopped run again; the one done stays done.
            await DrainAsync(portal, agent, [], flaky.Id);
            var units = await portal.UnitsAsync(flaky.Id);
            Assert.All(units, u => Assert.Equal(WorkUnitState.Succeeded, u.State));
        }

        // Every unit of Alice's 31 was charged once; the failed lease and the stopped one cost nothing; nothing is still held.
        var balance = (await alice.GetFromJsonAsync<BalanceView>("api/account/balance"))!;
        Assert.Equal(((10 * Ton.Nano) - (31 * UnitCharge)).ToString(CultureInfo.InvariantCulture), balance.Available);
        Assert.Equal("0", balance.Held);
        Assert.Equal((3 * UnitCharge).ToString(CultureInfo.InvariantCulture), (await portal.JobAsync(flaky.Id)).Charged);
        Assert.Equal("0", (await portal.Http.GetFromJsonAsync<TrialBalanceView>("api/ledger/trial-balance"))!.Sum);
        Assert.True((await portal.Http.GetFromJsonAsync<LedgerCheck>("api/ledger/verify"))!.Holds);
    }

    /// <summary>
    /// With two distinct agents' failures needed to fail a unit: X and Y fail it, the job fails; after a
    /// retry one more failure does not fail it again (only failures since the retry count), and the unit
    /// completes on the other agent.
    /// </summary>
    [Fact]
    public async Task A_retry_counts_only_failures_since_it()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_retry");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-retry", new Dictionary<string, string>
        {
            ["Cocoon__Jobs__FailingAgentsPerUnit"] = "2",
            ["Cocoon__Jobs__CanaryPercent"] = "0",
        });
        await using var x = await ScriptedAgent.StartAsync(portal, "x");
        await using var y = await ScriptedAgent.StartAsync(portal, "y");
        await portal.WaitForAgentsOnlineAsync(2);
        var job = await portal.SubmitAsync(new CreateJobRequest { Name = "twice failed", MatrixSize = 16, MatrixCount = 1, MatricesPerUnit = 1 });

        var (first, a1) = await ScriptedAgent.FirstAssignmentAsync(x, y);
        Assert.Equal(ResultAck.Accepted, await first.FailAsync(a1.LeaseId, "out of memory"));
        var (second, a2) = await ScriptedAgent.FirstAssignmentAsync(x, y);
        Assert.NotSame(first, second);
        Assert.Equal(ResultAck.Accepted, await second.FailAsync(a2.LeaseId, "out of memory"));
        Assert.Equal(JobState.Failed, (await portal.WaitForJobAsync(job.Id, TimeSpan.FromSeconds(30))).State);

        Assert.Equal(HttpStatusCode.OK, (await portal.Http.PostAsync($"api/jobs/{job.Id}/retry", null)).StatusCode);
        var (third, a3) = await ScriptedAgent.FirstAssignmentAsync(x, y);
        Assert.Equal(ResultAck.Accepted, await third.FailAsync(a3.LeaseId, "out of memory"));
        var (fourth, a4) = await ScriptedAgent.FirstAssignmentAsync(x, y);
        Assert.Equal(JobState.Running, (await portal.JobAsync(job.Id)).State);
        Assert.Equal(ResultAck.Accepted, await fourth.CompleteAsync(a4));
        var done = await portal.WaitForJobAsync(job.Id, TimeSpan.FromSeconds(30));
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Retries));
    }

    /// <summary>
    /// One job's routine results do not take the job for themselves: with the job's row share-locked
    /// by another transaction (as a foreign-key check holds it), results are counted and paid. Only the
    /// job's success takes the job and its row, in a step of its own after the last result commits; a
    /// portal killed in that moment leaves a job whose units are all done, and the next portal's sweeper
    /// finishes it and releases its hold.
    /// </summary>
    [Fact]
    public async Task Results_do_not_wait_on_each_other_and_a_job_a_killed_portal_left_unfinished_is_finished_by_the_next()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_results");
        var settings = new Dictionary<string, string>
        {
            ["Cocoon__Money__DefaultPricePerTflop"] = Price.ToString(CultureInfo.InvariantCulture),
            ["Cocoon__Money__FeePercent"] = "10",
            ["Cocoon__Jobs__CanaryPercent"] = "0",
        };
        var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-results-1", settings);
        Guid jobId, ownerId;
        try
        {
            (var owner, ownerId) = await FundedDeveloperAsync(portal, db, "results-deposit");
            jobId = (await SubmitAsync(portal, owner, "side-by-side", 3)).Id;
            await using var agent = await ScriptedAgent.StartAsync(portal, "results-1", capacity: 2);
            var held = await TakeAsync(agent, 2);

            await using var other = new NpgsqlConnection(db);
            await other.OpenAsync();
            await using var otherTx = await other.BeginTransactionAsync();
            await using (var share = new NpgsqlCommand("SELECT 1 FROM jobs WHERE id = @id FOR KEY SHARE", other, otherTx))
            {
                share.Parameters.AddWithValue("id", jobId);
                await share.ExecuteScalarAsync();
            }

            // A result that took the job's row for itself would wait here until the transaction above ends.
            foreach (var assignment in held)
            {
                Assert.Equal(ResultAck.Accepted, await agent.CompleteAsync(assignment).WaitAsync(TimeSpan.FromSeconds(60)));
            }

            var finishing = agent.CompleteAsync(await agent.NextAssignmentAsync());
            await Eventually.HoldsAsync(async () =>
            {
                await using var ledger = PortalDb.Open(db);
                return await ledger.WorkUnits.CountAsync(u => u.JobId == jobId && u.State == WorkUnitState.Succeeded) == 3;
            }, TimeSpan.FromSeconds(60), "every unit to be counted");
            await using (var ledger = PortalDb.Open(db))
            {
                Assert.Equal(3, await ledger.Set<LedgerTransaction>().CountAsync(t => t.JobId == jobId && t.Kind == "settle"));
                Assert.Equal(JobState.Running, await ledger.Jobs.Where(j => j.Id == jobId).Select(j => j.State).SingleAsync());
            }

            portal.Kill();
            await otherTx.RollbackAsync();
            await Task.WhenAny(finishing, Task.Delay(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await portal.DisposeAsync();
        }

        await using var restarted = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-results-2", settings);
        Assert.Equal(JobState.Succeeded, (await restarted.WaitForJobAsync(jobId, TimeSpan.FromSeconds(60))).State);
        await using var after = PortalDb.Open(db);
        Assert.Equal(0, await LedgerBook.BalanceAsync(after, LedgerAccountKind.DeveloperHeld, ownerId, CancellationToken.None, jobId));
        Assert.Equal(1, await after.Set<LedgerTransaction>().CountAsync(t => t.JobId == jobId && t.Kind == "release"));
        Assert.Equal(3, await after.Set<LedgerTransaction>().CountAsync(t => t.JobId == jobId && t.Kind == "settle"));
        Assert.Equal(0, await after.Set<LedgerAccount>().SumAsync(a => a.Balance));
        Assert.Equal(0, await after.Leases.CountAsync(l => l.JobId == jobId && (l.EndedAt == null || l.Outcome != LeaseOutcome.Succeeded)));
    }

    private static async Task<(HttpClient Client, Guid Id)> FundedDeveloperAsync(PortalProcess portal, string db, string deposit)
    {
        var client = await portal.SignInAsync(new TestWallet());
        var id = (await client.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid();
        await using var ledger = PortalDb.Open(db);
        await using var tx = await ledger.Database.BeginTransactionAsync();
        await Deposits.CreditAsync(ledger, id, 10 * Ton.Nano, deposit, "deposit", DateTimeOffset.UtcNow, CancellationToken.None);
        await tx.CommitAsync();
        return (client, id);
    }

    /// <summary>Submits a matrix job of <paramref name="units"/> one-product units with a 1 TON budget, and waits until it is planned.</summary>
    private static async Task<JobView> SubmitAsync(PortalProcess portal, HttpClient owner, string name, int units)
    {
        var response = await owner.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = name, MatrixSize = 16, MatrixCount = units, MatricesPerUnit = 1, Budget = "1000000000" }, PortalProcess.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        await Eventually.HoldsAsync(async () => (await portal.UnitsAsync(job.Id)).Count == units, TimeSpan.FromSeconds(30), $"job {name} to be planned");
        return job;
    }

    private static async Task<List<WorkAssignment>> TakeAsync(ScriptedAgent agent, int count)
    {
        var taken = new List<WorkAssignment>();
        while (taken.Count < count)
        {
            taken.Add(await agent.NextAssignmentAsync());
        }

        return taken;
    }

    /// <summary>Completes what the agent holds and whatever it is given next, until every one of the jobs has succeeded.</summary>
    private static async Task DrainAsync(PortalProcess portal, ScriptedAgent agent, IEnumerable<WorkAssignment> held, params Guid[] jobs)
    {
        foreach (var assignment in held)
        {
            Assert.Equal(ResultAck.Accepted, await agent.CompleteAsync(assignment));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            if (await agent.TryNextAssignmentAsync(TimeSpan.FromMilliseconds(500)) is { } next)
            {
                Assert.Equal(ResultAck.Accepted, await agent.CompleteAsync(next));
                continue;
            }

            var states = await Task.WhenAll(jobs.Select(portal.JobAsync));
            if (states.All(j => j.State == JobState.Succeeded))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"jobs still unfinished: {string.Join(", ", states.Select(j => $"{j.Name} {j.State} {j.UnitsDone}/{j.UnitsTotal}"))}");
        }
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string mentions)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(mentions, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
