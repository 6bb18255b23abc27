using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// Money through the real portal and a real agent: a funded developer's budget is held, each unit is
/// charged at its agent's price per TFLOP plus the platform's fee, the provider earns the costs, the
/// rest of the hold comes back, a budget that runs out pauses the job until it is raised, an owner's
/// pause, resume and cancel steer it, and the ledger checks out.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class MoneyFlowTests(PostgresFixture postgres)
{
    // 1000 TON per TFLOP makes a unit's cost its FLOP count in nanotons; 10 % on top.
    private const long Price = 1000 * Ton.Nano;

    [Fact]
    public async Task A_job_is_charged_per_unit_and_the_provider_earns_it()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_money");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-money", new Dictionary<string, string>
        {
            ["Cocoon__Money__DefaultPricePerTflop"] = Price.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cocoon__Money__FeePercent"] = "10",
        });
        await using var agent = await AgentProcess.StartPairedAsync(portal, "priced");
        await portal.WaitForAgentsOnlineAsync(1);

        var developer = await portal.SignInAsync(new TestWallet());
        var me = await developer.GetFromJsonAsync<JsonElement>("api/auth/me");
        var developerId = me.GetProperty("id").GetGuid();
        await using (var ledger = PortalDb.Open(db))
        {
            await using var tx = await ledger.Database.BeginTransactionAsync();
            await Deposits.CreditAsync(ledger, developerId, 10 * Ton.Nano, "devnet-tx-1", "deposit", DateTimeOffset.UtcNow, CancellationToken.None);
            await tx.CommitAsync();
        }

        Assert.Equal("10000000000", (await developer.GetFromJsonAsync<BalanceView>("api/account/balance"))!.Available);

        // A budget the balance cannot hold is refused, naming the shortfall; nothing is held.
        var tooMuch = await developer.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "too dear", MatrixSize = 64, MatrixCount = 8, MatricesPerUnit = 2, Budget = "25000000000" }, PortalProcess.Json);
        Assert.Equal(HttpStatusCode.PaymentRequired, tooMuch.StatusCode);
        Assert.Equal("15000000000", (await tooMuch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("shortfall").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await developer.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "x", Budget = "-5" }, PortalProcess.Json)).StatusCode);

        // 4 units of 2 products of 64³: each costs 2 × 2 × 64³ = 1,048,576 nanotons, plus 104,857 fee.
        var submitted = await developer.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "paid", MatrixSize = 64, MatrixCount = 8, MatricesPerUnit = 2, Seed = 7, Budget = "1000000000", MaxPricePerTflop = Price.ToString(System.Globalization.CultureInfo.InvariantCulture) }, PortalProcess.Json);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var job = (await submitted.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        var done = await portal.WaitForJobAsync(job.Id, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Succeeded, done.State);
        const long cost = 2 * 2 * 64 * 64 * 64;
        const long charge = cost + (cost / 10);
        Assert.Equal((4 * charge).ToString(System.Globalization.CultureInfo.InvariantCulture), (await developer.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!.Charged);

        var balance = (await developer.GetFromJsonAsync<BalanceView>("api/account/balance"))!;
        Assert.Equal((10 * Ton.Nano - (4 * charge)).ToString(System.Globalization.CultureInfo.InvariantCulture), balance.Available);
        Assert.Equal("0", balance.Held);
        var csv = await developer.GetStringAsync("api/account/statement?format=csv");
        Assert.StartsWith("seq,at,kind,account,amount_nanoton", csv, StringComparison.Ordinal);
        Assert.Equal(4, csv.Split('\n').Count(l => l.Contains(",settle,", StringComparison.Ordinal)));
        Assert.Single(csv.Split('\n'), l => l.Contains(",release,available,", StringComparison.Ordinal));

        // The agent's owner (the admin here) earned the costs; the trial balance sums to zero and the chain holds.
        var earnings = (await portal.Http.GetFromJsonAsync<EarningsView>("api/earnings"))!;
        Assert.Equal((4 * cost).ToString(System.Globalization.CultureInfo.InvariantCulture), earnings.Earned);
        Assert.Equal(4, Assert.Single(earnings.PerAgent).Units);
        Assert.Equal("0", (await portal.Http.GetFromJsonAsync<TrialBalanceView>("api/ledger/trial-balance"))!.Sum);
        Assert.True((await portal.Http.GetFromJsonAsync<LedgerCheck>("api/ledger/verify"))!.Holds);
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync("api/ledger/verify")).StatusCode);

        // The pages say the same: the developer's balance and statement, the provider's earnings, finance's books.
        var balancePage = await developer.GetStringAsync("balance");
        Assert.Contains(Ton.Format((10 * Ton.Nano) - (4 * charge)), balancePage, StringComparison.Ordinal);
        Assert.Contains("Unit 3 of job &#x27;paid&#x27;", balancePage.Replace("&#39;", "&#x27;", StringComparison.Ordinal), StringComparison.Ordinal);
        var earningsPage = await portal.Http.GetStringAsync("earnings");
        Assert.Contains(Ton.Format(4 * cost), earningsPage, StringComparison.Ordinal);
        Assert.Contains("id=\"earnings-chart\" data-days=\"1\"", earningsPage, StringComparison.Ordinal);
        Assert.Contains("id=\"spending-chart\" data-days=\"1\"", balancePage, StringComparison.Ordinal);
        var spending = (await developer.GetFromJsonAsync<SpendingView>("api/account/spending"))!;
        var paidJob = Assert.Single(spending.PerJob);
        Assert.Equal(("paid", 4, (4 * charge).ToString(System.Globalization.CultureInfo.InvariantCulture)), (paidJob.Name, paidJob.Units, paidJob.Amount));
        Assert.Equal((4 * charge).ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(spending.PerDay).Amount);
        Assert.Equal(("paid", 4), (Assert.Single(earnings.PerJob).Name, earnings.PerJob[0].Units));
        Assert.Contains("The books hold", await portal.Http.GetStringAsync("ledger"), StringComparison.Ordinal);
        var feesCode = LedgerBook.Code(LedgerAccountKind.PlatformFees, null);
        var fees = (await portal.Http.GetFromJsonAsync<AccountEntry[]>($"api/ledger/accounts/{feesCode}/entries"))!;
        Assert.Equal(4, fees.Count(e => e.Kind == "settle"));
        Assert.Contains("settle", await portal.Http.GetStringAsync($"ledger?account={feesCode}"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await portal.Http.GetAsync("api/ledger/accounts/nope/entries")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync($"api/ledger/accounts/{feesCode}/entries")).StatusCode);
        Assert.Contains(Ton.Format(4 * charge), await developer.GetStringAsync($"jobs/{job.Id}"), StringComparison.Ordinal);

        // A budget for one unit and a bit: the second unit cannot be paid, so the job pauses with its hold and says why.
        var small = await developer.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "small budget", MatrixSize = 64, MatrixCount = 8, MatricesPerUnit = 2, Seed = 8, Budget = (charge + 1000).ToString(System.Globalization.CultureInfo.InvariantCulture) }, PortalProcess.Json);
        var smallId = (await small.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!.Id;
        var paused = await WaitForStateAsync(developer, smallId, JobState.Paused);
        Assert.Contains("Paused at its budget", paused.PauseReason, StringComparison.Ordinal);
        Assert.Equal(charge.ToString(System.Globalization.CultureInfo.InvariantCulture), paused.Charged);
        Assert.Equal("1000", (await developer.GetFromJsonAsync<BalanceView>("api/account/balance"))!.Held);
        var estimate = (await developer.GetFromJsonAsync<JobCostView>($"api/jobs/{smallId}/cost", PortalProcess.Json))!;
        Assert.Equal((4 * charge).ToString(System.Globalization.CultureInfo.InvariantCulture), estimate.Estimate);
        Assert.Equal(Price.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(estimate.Agents).PricePerTflop);
        Assert.Contains("Paused at its budget", await developer.GetStringAsync($"jobs/{smallId}"), StringComparison.Ordinal);

        // A raise the balance cannot hold, or that is not an amount, changes nothing; three units' worth resumes the job.
        var tooLarge = await developer.PostAsJsonAsync($"api/jobs/{smallId}/budget", new RaiseBudgetRequest { Add = "900000000000000" });
        Assert.Equal(HttpStatusCode.PaymentRequired, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await developer.PostAsJsonAsync($"api/jobs/{smallId}/budget", new RaiseBudgetRequest { Add = "1.5" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await developer.PostAsJsonAsync($"api/jobs/{smallId}/budget", new RaiseBudgetRequest { Add = "0" })).StatusCode);
        Assert.Equal(JobState.Paused, (await developer.GetFromJsonAsync<JobView>($"api/jobs/{smallId}", PortalProcess.Json))!.State);
        var raised = await developer.PostAsJsonAsync($"api/jobs/{smallId}/budget", new RaiseBudgetRequest { Add = (3 * charge).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        var finished = await portal.WaitForJobAsync(smallId, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Succeeded, finished.State);
        Assert.Null(finished.PauseReason);
        Assert.Equal((4 * charge).ToString(System.Globalization.CultureInfo.InvariantCulture), finished.Charged);
        Assert.Equal("0", (await developer.GetFromJsonAsync<BalanceView>("api/account/balance"))!.Held);
        Assert.Equal(HttpStatusCode.Conflict, (await developer.PostAsJsonAsync($"api/jobs/{smallId}/budget", new RaiseBudgetRequest { Add = "1" })).StatusCode);

        // An agent that asks more than a job's cap gets none of its units.
        var agentId = Assert.Single(await portal.Http.GetFromJsonAsync<JsonElement[]>("api/agents") ?? []).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.BadRequest, (await portal.Http.PutAsJsonAsync($"api/agents/{agentId}/price", new { pricePerTflop = "cheap" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.PutAsJsonAsync($"api/agents/{agentId}/price", new { pricePerTflop = "1" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await portal.Http.PutAsJsonAsync($"api/agents/{agentId}/price", new { pricePerTflop = Price.ToString(System.Globalization.CultureInfo.InvariantCulture) })).StatusCode);
        var capped = await developer.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "capped", MatrixSize = 16, MatrixCount = 2, MatricesPerUnit = 1, Budget = "1000000000", MaxPricePerTflop = (Price / 2).ToString(System.Globalization.CultureInfo.InvariantCulture) }, PortalProcess.Json);
        var cappedJob = (await capped.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        await Task.Delay(TimeSpan.FromSeconds(5));
        var waiting = (await developer.GetFromJsonAsync<JobView>($"api/jobs/{cappedJob.Id}", PortalProcess.Json))!;
        Assert.Equal(0, waiting.UnitsDone);
        Assert.Equal("0", waiting.Charged);
        Assert.Contains("No agent under", (await developer.GetFromJsonAsync<JobCostView>($"api/jobs/{cappedJob.Id}/cost", PortalProcess.Json))!.EstimateBasis, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_owner_pauses_resumes_and_cancels_a_job_and_is_charged_only_for_units_done_before()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_money_control");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-money-control", new Dictionary<string, string>
        {
            ["Cocoon__Money__DefaultPricePerTflop"] = Price.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await using var agent = await AgentProcess.StartPairedAsync(portal, "steady");
        await portal.WaitForAgentsOnlineAsync(1);
        var developer = await portal.SignInAsync(new TestWallet());
        var stranger = await portal.SignInAsync(new TestWallet());
        var developerId = (await developer.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid();
        await using (var ledger = PortalDb.Open(db))
        {
            await using var tx = await ledger.Database.BeginTransactionAsync();
            await Deposits.CreditAsync(ledger, developerId, 10 * Ton.Nano, "devnet-tx-control", "deposit", DateTimeOffset.UtcNow, CancellationToken.None);
            await tx.CommitAsync();
        }

        // Enough units that the job cannot finish while it is paused, resumed and cancelled.
        var submitted = await developer.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "steered", MatrixSize = 96, MatrixCount = 1600, MatricesPerUnit = 8, Seed = 3, Budget = "5000000000" }, PortalProcess.Json);
        var job = (await submitted.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        await Eventually.HoldsAsync(async () => (await developer.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!.UnitsDone >= 1, TimeSpan.FromMinutes(2), "a unit to finish");

        // Nobody else may steer it; a job that is running cannot be resumed.
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"api/jobs/{job.Id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync($"api/jobs/{job.Id}/budget", new RaiseBudgetRequest { Add = "1" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await developer.PostAsync($"api/jobs/{job.Id}/resume", null)).StatusCode);

        // Paused: the units running finish, no new one starts.
        var pause = await developer.PostAsync($"api/jobs/{job.Id}/pause", null);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.Equal(JobState.Paused, (await pause.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!.State);
        Assert.Equal(HttpStatusCode.Conflict, (await developer.PostAsync($"api/jobs/{job.Id}/pause", null)).StatusCode);
        await Eventually.HoldsAsync(async () => await ActiveLeasesAsync(db, job.Id) == 0, TimeSpan.FromMinutes(1), "the running units to finish");
        var doneWhilePaused = (await developer.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!.UnitsDone;
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(doneWhilePaused, (await developer.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!.UnitsDone);

        // Resumed, it goes on; cancelled, its agent's units stop, nothing more is charged and the rest comes back.
        Assert.Equal(HttpStatusCode.OK, (await developer.PostAsync($"api/jobs/{job.Id}/resume", null)).StatusCode);
        await Eventually.HoldsAsync(async () => (await developer.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!.UnitsDone > doneWhilePaused, TimeSpan.FromMinutes(1), "the resumed job to finish another unit");
        var cancel = await developer.PostAsync($"api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var cancelled = (await cancel.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal(HttpStatusCode.Conflict, (await developer.PostAsync($"api/jobs/{job.Id}/cancel", null)).StatusCode);
        Assert.Equal(0, await ActiveLeasesAsync(db, job.Id));
        await Task.Delay(TimeSpan.FromSeconds(2));

        var after = (await developer.GetFromJsonAsync<JobView>($"api/jobs/{job.Id}", PortalProcess.Json))!;
        Assert.Equal(cancelled.UnitsDone, after.UnitsDone);
        Assert.Equal(cancelled.Charged, after.Charged);
        const long unitCharge = 2L * 96 * 96 * 96 * 8 * 11 / 10;
        Assert.Equal((after.UnitsDone * unitCharge).ToString(System.Globalization.CultureInfo.InvariantCulture), after.Charged);
        var balance = (await developer.GetFromJsonAsync<BalanceView>("api/account/balance"))!;
        Assert.Equal("0", balance.Held);
        Assert.Equal(((10 * Ton.Nano) - (after.UnitsDone * unitCharge)).ToString(System.Globalization.CultureInfo.InvariantCulture), balance.Available);
        Assert.Equal("0", (await portal.Http.GetFromJsonAsync<TrialBalanceView>("api/ledger/trial-balance"))!.Sum);
        Assert.True((await portal.Http.GetFromJsonAsync<LedgerCheck>("api/ledger/verify"))!.Holds);
        await using (var ledger = PortalDb.Open(db))
        {
            Assert.True(await ledger.Leases.AnyAsync(l => l.Outcome == Cocoon.Web.Features.Jobs.LeaseOutcome.Cancelled), "the agent's running units were cancelled");
        }

        Assert.Contains("Cancelled", await developer.GetStringAsync($"jobs/{job.Id}"), StringComparison.Ordinal);
    }

    private static async Task<JobView> WaitForStateAsync(HttpClient client, Guid jobId, JobState state)
    {
        JobView? job = null;
        await Eventually.HoldsAsync(async () => (job = await client.GetFromJsonAsync<JobView>($"api/jobs/{jobId}", PortalProcess.Json))!.State == state, TimeSpan.FromMinutes(2), $"job {jobId} to be {state}");
        return job!;
    }

    private static async Task<int> ActiveLeasesAsync(string db, Guid jobId)
    {
        await using var ledger = PortalDb.Open(db);
        return await ledger.Leases.CountAsync(l => l.EndedAt == null && ledger.WorkUnits.Any(u => u.Id == l.WorkUnitId && u.JobId == jobId));
    }
}
