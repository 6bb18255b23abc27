using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// Money through the real portal and a real agent: a funded developer's budget is held, each unit is
/// charged at its agent's price per TFLOP plus the platform's fee, the provider earns the costs, the
/// rest of the hold comes back, a budget that runs out stops the job, and the ledger checks out.
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
        Assert.Contains(Ton.Format(4 * cost), await portal.Http.GetStringAsync("earnings"), StringComparison.Ordinal);
        Assert.Contains("The books hold", await portal.Http.GetStringAsync("ledger"), StringComparison.Ordinal);
        Assert.Contains(Ton.Format(4 * charge), await developer.GetStringAsync($"jobs/{job.Id}"), StringComparison.Ordinal);

        // A budget for one unit and a bit: the second unit cannot be paid, the job stops, the rest comes back.
        var small = await developer.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "small budget", MatrixSize = 64, MatrixCount = 8, MatricesPerUnit = 2, Seed = 8, Budget = (charge + 1000).ToString(System.Globalization.CultureInfo.InvariantCulture) }, PortalProcess.Json);
        var stopped = await portal.WaitForJobAsync((await small.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!.Id, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Failed, stopped.State);
        Assert.Contains("budget is spent", stopped.FailureReason, StringComparison.Ordinal);
        Assert.Equal(charge.ToString(System.Globalization.CultureInfo.InvariantCulture), stopped.Charged);
        Assert.Equal("0", (await developer.GetFromJsonAsync<BalanceView>("api/account/balance"))!.Held);

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
    }
}
