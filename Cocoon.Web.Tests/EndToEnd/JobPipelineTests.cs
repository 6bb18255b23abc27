using Cocoon.Shared.Jobs;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.EndToEnd;

/// <summary>Portal and agents as real processes, on Kestrel, PostgreSQL, Hangfire and SignalR.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class JobPipelineTests(PostgresFixture postgres)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_job_completes_with_verified_results()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_complete");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-complete");
        await using var agent = await AgentProcess.StartPairedAsync(portal, "solo");
        await portal.WaitForAgentsOnlineAsync(1);

        var job = await portal.SubmitAsync(new CreateJobRequest { Name = "verified", MatrixSize = 32, MatrixCount = 24, MatricesPerUnit = 3, Seed = 1234 });
        var done = await portal.WaitForJobAsync(job.Id, JobTimeout);

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(8, done.UnitsDone);
        var units = await portal.UnitsAsync(job.Id);
        Assert.Equal(8, units.Count);
        foreach (var unit in units)
        {
            Assert.Equal(WorkUnitState.Succeeded, unit.State);
            Assert.Equal(ExpectedOutput.Digest(32, 1234, unit.FirstMatrix, unit.MatrixCount), unit.OutputDigest);
            Assert.True(unit.Gflops > 0);
        }

        await AssertEachUnitCountedOnceAsync(db, job.Id);
    }

    [Fact]
    public async Task A_killed_agents_units_go_to_the_other_agent_and_every_unit_is_done_once()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_kill");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-kill");
        await using var doomed = await AgentProcess.StartPairedAsync(portal, "doomed");
        await using var survivor = await AgentProcess.StartPairedAsync(portal, "survivor");
        await portal.WaitForAgentsOnlineAsync(2);
        Guid doomedId;
        await using (var ledger = PortalDb.Open(db))
        {
            doomedId = await ledger.Agents.Where(a => a.Name == "doomed").Select(a => a.Id).SingleAsync();
        }

        // Enough units that the job cannot finish between two looks (on a loaded machine it once did with 30).
        var job = await portal.SubmitAsync(new CreateJobRequest { Name = "kill", MatrixSize = 96, MatrixCount = 1600, MatricesPerUnit = 8, Seed = 99 });
        // Kill the agent while it holds work, after it has already finished some. It is frozen first, so the
        // lease seen held cannot finish in the moment between the look and the kill.
        await Eventually.HoldsAsync(async () =>
        {
            await using var ledger = PortalDb.Open(db);
            if (await ledger.Leases.CountAsync(l => l.AgentId == doomedId && l.Outcome == LeaseOutcome.Succeeded) < 1)
            {
                return false;
            }

            await doomed.FreezeAsync();
            if (await ledger.Leases.AnyAsync(l => l.AgentId == doomedId && l.EndedAt == null))
            {
                return true;
            }

            await doomed.ThawAsync();
            return false;
        }, JobTimeout, "the doomed agent to finish a unit and hold another");
        doomed.Kill();

        var done = await portal.WaitForJobAsync(job.Id, JobTimeout);
        Assert.Equal(JobState.Succeeded, done.State);
        await AssertEachUnitCountedOnceAsync(db, job.Id);
        await using (var ledger = PortalDb.Open(db))
        {
            Assert.True(await ledger.Leases.AnyAsync(l => l.AgentId == doomedId && l.Outcome == LeaseOutcome.AgentLost),
                "the killed agent's held units were taken back");
            var survivorId = await ledger.Agents.Where(a => a.Name == "survivor").Select(a => a.Id).SingleAsync();
            var lostUnits = await ledger.Leases.Where(l => l.AgentId == doomedId && l.Outcome == LeaseOutcome.AgentLost).Select(l => l.WorkUnitId).ToListAsync();
            Assert.All(lostUnits, unitId => Assert.True(ledger.Leases.Any(l => l.WorkUnitId == unitId && l.AgentId == survivorId && l.Outcome == LeaseOutcome.Succeeded)));
        }

        foreach (var unit in await portal.UnitsAsync(job.Id))
        {
            Assert.Equal(ExpectedOutput.Digest(96, 99, unit.FirstMatrix, unit.MatrixCount), unit.OutputDigest);
        }
    }

    [Fact]
    public async Task After_a_portal_restart_mid_job_the_agent_reconnects_and_the_job_completes()
    {
        var db = await postgres.CreateDatabaseAsync("e2e_restart");
        var port = FreePort.Next();
        var portal = await PortalProcess.StartAsync(db, port, "portal-restart-1");
        await using var agent = await AgentProcess.StartPairedAsync(portal, "steadfast");
        await portal.WaitForAgentsOnlineAsync(1);
        var job = await portal.SubmitAsync(new CreateJobRequest { Name = "restart", MatrixSize = 96, MatrixCount = 160, MatricesPerUnit = 8, Seed = 7 });
        await Eventually.HoldsAsync(async () => (await portal.JobAsync(job.Id)).UnitsDone >= 2, JobTimeout, "two units to finish before the restart");

        await portal.StopAsync();
        await portal.DisposeAsync();
        var doneBefore = await CountSucceededAsync(db, job.Id);
        Assert.True(doneBefore < 20, "the job was still running when the portal stopped");

        await using var restarted = await PortalProcess.StartAsync(db, port, "portal-restart-2");
        var done = await restarted.WaitForJobAsync(job.Id, JobTimeout);

        Assert.Equal(JobState.Succeeded, done.State);
        var lost = agent.Output.LastIndexOf("reconnecting", StringComparison.Ordinal);
        Assert.True(lost >= 0, "the agent noticed the portal going away");
        Assert.Contains("Registered with the portal", agent.Output[lost..], StringComparison.Ordinal);
        await AssertEachUnitCountedOnceAsync(db, job.Id);
        foreach (var unit in await restarted.UnitsAsync(job.Id))
        {
            Assert.Equal(ExpectedOutput.Digest(96, 7, unit.FirstMatrix, unit.MatrixCount), unit.OutputDigest);
        }
    }

    private static async Task<int> CountSucceededAsync(string db, Guid jobId)
    {
        await using var ledger = PortalDb.Open(db);
        return await ledger.WorkUnits.CountAsync(u => u.JobId == jobId && u.State == WorkUnitState.Succeeded);
    }

    /// <summary>Each unit succeeded under exactly one lease: nothing counted twice, nothing lost.</summary>
    private static async Task AssertEachUnitCountedOnceAsync(string db, Guid jobId)
    {
        await using var ledger = PortalDb.Open(db);
        var units = await ledger.WorkUnits.Where(u => u.JobId == jobId).Select(u => u.Id).ToListAsync();
        var succeededLeases = await ledger.Leases
            .Where(l => units.Contains(l.WorkUnitId) && l.Outcome == LeaseOutcome.Succeeded)
            .GroupBy(l => l.WorkUnitId)
            .Select(g => new { Unit = g.Key, Count = g.Count() })
            .ToListAsync();
        Assert.Equal(units.Count, succeededLeases.Count);
        Assert.All(succeededLeases, s => Assert.Equal(1, s.Count));
        Assert.Equal(0, await ledger.Leases.CountAsync(l => units.Contains(l.WorkUnitId) && l.EndedAt == null));
    }
}
