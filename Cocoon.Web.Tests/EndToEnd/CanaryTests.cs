using System.Net;
using System.Net.Http.Json;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>
/// Canaries through the real portal: units the portal recomputes itself, unannounced. A scripted agent
/// that makes up a matrix unit's digest is caught: its result is refused and unpaid, a dispute records
/// the evidence, the unit runs again on an honest agent whose answer is the one the developer gets,
/// and the liar's reputation falls below the honest agent's.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class CanaryTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_lying_agent_is_caught_by_a_canary_and_the_honest_result_stands()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_canary");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-canary", new Dictionary<string, string>
        {
            ["Cocoon__Jobs__CanaryPercent"] = "100",
        });
        await using var liar = await ScriptedAgent.StartAsync(portal, "liar");
        await portal.WaitForAgentsOnlineAsync(1);
        var job = await portal.SubmitAsync(new CreateJobRequest { Name = "checked", MatrixSize = 16, MatrixCount = 2, MatricesPerUnit = 1, Seed = 11 });

        // The liar gets a unit and makes up its answer: refused, and nothing about the assignment told it the unit was checked.
        var lied = await liar.NextAssignmentAsync();
        Assert.Equal(ResultAck.Rejected, await liar.LieAsync(lied));

        // Told it was caught, it works out the true answer and sends it on the same lease: still refused.
        Assert.Equal(ResultAck.Rejected, await liar.CompleteAsync(lied));

        // An honest agent joins; the unit the liar failed goes to it first, and both units end with their true products.
        await using var honest = await ScriptedAgent.StartAsync(portal, "honest");
        for (var units = 0; units < 2; units++)
        {
            var (holder, next) = await ScriptedAgent.FirstAssignmentAsync(honest, liar);
            Assert.Equal(ResultAck.Accepted, await holder.CompleteAsync(next));
        }

        Assert.Equal(JobState.Succeeded, (await portal.WaitForJobAsync(job.Id, TimeSpan.FromSeconds(30))).State);
        foreach (var unit in await portal.UnitsAsync(job.Id))
        {
            Assert.Equal(ExpectedOutput.Digest(16, 11, unit.FirstMatrix, 1), unit.OutputDigest);
        }

        // The dispute names the liar, the unit and both digests; only admins see it.
        var disputes = (await portal.Http.GetFromJsonAsync<List<DisputeView>>("api/admin/disputes"))!;
        var dispute = Assert.Single(disputes);
        Assert.Equal(("Canary", "liar", lied.UnitIndex), (dispute.Kind, dispute.Agent, dispute.UnitIndex));
        Assert.Equal(ExpectedOutput.Digest(16, 11, lied.Work!.FirstMatrix, 1), dispute.Expected);
        Assert.NotEqual(dispute.Expected, dispute.Reported);
        var developer = await portal.SignInAsync(new TestWallet());
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync("api/admin/disputes")).StatusCode);

        // The failed lease weighs on the liar; no settlement was made for it.
        var agents = (await portal.Http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/agents", PortalProcess.Json))!;
        Assert.True(agents.Single(a => a.Name == "liar").Reputation < agents.Single(a => a.Name == "honest").Reputation);
        await using var ledger = PortalDb.Open(db);
        var liarLease = await ledger.Leases.AsNoTracking().SingleAsync(l => l.Id == lied.LeaseId);
        Assert.Equal(LeaseOutcome.Failed, liarLease.Outcome);
    }
}
