using System.Security.Claims;
using Bunit;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Agents.Pairing;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Hosting;
using Cocoon.Web.Hosting.Live;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Cocoon.Web.Tests.Components;

/// <summary>The pages rendered by bUnit over a real, migrated PostgreSQL database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PageTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_jobs_page_lists_jobs_and_follows_live_changes()
    {
        var (ctx, db) = await ContextAsync("bunit_jobs");
        await using var _ = ctx;
        var jobId = await SeedJobAsync(db, unitsDone: 1);

        var page = ctx.Render<JobsPage>();
        page.WaitForAssertion(() => Assert.Contains("Seeded job", page.Markup, StringComparison.Ordinal));
        Assert.Contains("1 / 4", page.Markup, StringComparison.Ordinal);

        await using (var ledger = PortalDb.Open(db))
        {
            await ledger.WorkUnits.Where(u => u.JobId == jobId).ExecuteUpdateAsync(s => s.SetProperty(u => u.State, WorkUnitState.Succeeded));
        }

        ctx.Services.GetRequiredService<LiveUpdates>().JobChanged(jobId);
        page.WaitForAssertion(() => Assert.Contains("4 / 4", page.Markup, StringComparison.Ordinal), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_job_page_shows_units_and_says_when_a_job_does_not_exist()
    {
        var (ctx, db) = await ContextAsync("bunit_detail");
        await using var _ = ctx;
        var jobId = await SeedJobAsync(db, unitsDone: 2);

        var page = ctx.Render<JobDetailPage>(p => p.Add(x => x.Id, jobId));
        page.WaitForAssertion(() => Assert.Equal("2 / 4", page.Find("#units-done").TextContent), TimeSpan.FromSeconds(10));
        // The units table reads its page after the first render.
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".unit-state[data-state=Succeeded]").Count), TimeSpan.FromSeconds(10));
        Assert.Equal("Running", page.Find("#job-state").GetAttribute("data-state"));

        var missing = ctx.Render<JobDetailPage>(p => p.Add(x => x.Id, Guid.NewGuid()));
        missing.WaitForAssertion(() => Assert.Contains("There is no job", missing.Markup, StringComparison.Ordinal), TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// A large job's page reads one page of units, and its progress is summed by the database: partly
    /// done units count in proportion, copies run to check a unit do not count, running copies do.
    /// </summary>
    [Fact]
    public async Task The_job_page_pages_a_large_jobs_units_and_sums_its_progress_in_the_database()
    {
        var (ctx, db) = await ContextAsync("bunit_large");
        await using var _ = ctx;
        var jobId = Guid.NewGuid();
        await using (var ledger = PortalDb.Open(db))
        {
            ledger.Jobs.Add(new Job { Id = jobId, Name = "Large job", State = JobState.Running, MatrixSize = 8, MatrixCount = 240, MatricesPerUnit = 2, Seed = 1, CreatedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow });
            WorkUnit Unit(int index, int replica, WorkUnitState state, int done) => new()
            {
                Id = Guid.NewGuid(),
                JobId = jobId,
                Index = index,
                Replica = replica,
                FirstMatrix = index * 2,
                MatrixCount = 2,
                MatricesDone = done,
                QueuedAt = DateTimeOffset.UtcNow,
                State = state,
                OutputDigest = state == WorkUnitState.Succeeded ? new string('a', 64) : null,
            };

            // 60 of 120 units done, one halfway, and two copies of unit 0: one done, one running.
            for (var i = 0; i < 120; i++)
            {
                ledger.WorkUnits.Add(i < 60 ? Unit(i, 0, WorkUnitState.Succeeded, 2) : Unit(i, 0, i == 60 ? WorkUnitState.Running : WorkUnitState.Pending, i == 60 ? 1 : 0));
            }

            ledger.WorkUnits.Add(Unit(0, 1, WorkUnitState.Succeeded, 2));
            ledger.WorkUnits.Add(Unit(0, 2, WorkUnitState.Running, 1));
            await ledger.SaveChangesAsync();
        }

        var page = ctx.Render<JobDetailPage>(p => p.Add(x => x.Id, jobId));
        page.WaitForAssertion(() => Assert.Equal(50, page.FindAll(".unit-state").Count), TimeSpan.FromSeconds(10));
        Assert.Equal("60 / 120", page.Find("#units-done").TextContent);
        Assert.Equal("2", page.Find("#units-running").TextContent);
        Assert.Equal("50.4", page.Find("#job-progress").GetAttribute("data-value"));
        // The pager's count follows the page's rows in a render of its own.
        page.WaitForAssertion(() => Assert.Contains("of 122", page.Find("#units-table").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_agents_page_shows_online_and_offline_agents()
    {
        var (ctx, db) = await ContextAsync("bunit_agents");
        await using var _ = ctx;
        await using (var ledger = PortalDb.Open(db))
        {
            ledger.Agents.Add(Agent("gpu-box", online: true));
            ledger.Agents.Add(Agent("old-box", online: false));
            await ledger.SaveChangesAsync();
        }

        var page = ctx.Render<AgentsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".agent-status").Count));
        string? StatusOf(string agent) => page.FindAll("tr").Single(r => r.TextContent.Contains(agent, StringComparison.Ordinal))
            .QuerySelector(".agent-status")!.GetAttribute("data-online");
        Assert.Equal("true", StatusOf("gpu-box"));
        Assert.Equal("false", StatusOf("old-box"));
        Assert.Contains("NVIDIA H100", page.Markup, StringComparison.Ordinal);
        Assert.Contains("Cuda", page.Markup, StringComparison.Ordinal);
        Assert.Contains("80.0 GiB", page.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain(".ToString(", page.Markup, StringComparison.Ordinal);
    }

    private async Task<(BunitContext Context, string Db)> ContextAsync(string name)
    {
        var db = await postgres.CreateDatabaseAsync(name);
        await using (var ledger = PortalDb.Open(db))
        {
            await ledger.Database.MigrateAsync();
        }

        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddDbContextFactory<CocoonDbContext>(o => CocoonDatabase.Configure(o, db));
        ctx.Services.AddSingleton(TimeProvider.System);
        ctx.Services.AddSingleton<LiveUpdates>();
        ctx.Services.AddOptions<JobsOptions>();
        ctx.Services.AddSingleton<JobQueries>();
        ctx.Services.AddOptions<Cocoon.Web.Features.Agents.AgentLinkOptions>();
        ctx.Services.AddOptions<Cocoon.Web.Features.Money.MoneyOptions>();
        ctx.Services.AddSingleton<JobCosts>();
        // The page's pause, resume and cancel are not clicked here (MoneyFlowTests drives them through the real
        // portal), so the control service is an inert instance rather than a dispatcher wired to Hangfire and SignalR.
        ctx.Services.AddSingleton((JobControl)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(JobControl)));
        ctx.Services.AddSingleton<AgentQueries>();
        ctx.Services.AddSingleton<AgentPairingUi>();
        // An admin sees every job and agent; ownership rules are tested over HTTP in AuthorizationMatrixTests.
        var auth = ctx.AddAuthorization();
        auth.SetAuthorized("UQadmin");
        auth.SetRoles(Roles.Developer, Roles.Admin);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, Guid.NewGuid().ToString()));
        return (ctx, db);
    }

    private static async Task<Guid> SeedJobAsync(string db, int unitsDone)
    {
        await using var ledger = PortalDb.Open(db);
        var job = new Job { Id = Guid.NewGuid(), Name = "Seeded job", State = JobState.Running, MatrixSize = 8, MatrixCount = 8, MatricesPerUnit = 2, Seed = 1, CreatedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow };
        ledger.Jobs.Add(job);
        for (var i = 0; i < 4; i++)
        {
            ledger.WorkUnits.Add(new WorkUnit
            {
                Id = Guid.NewGuid(),
                JobId = job.Id,
                Index = i,
                FirstMatrix = i * 2,
                MatrixCount = 2,
                QueuedAt = DateTimeOffset.UtcNow,
                State = i < unitsDone ? WorkUnitState.Succeeded : WorkUnitState.Pending,
                OutputDigest = i < unitsDone ? new string('a', 64) : null,
            });
        }

        await ledger.SaveChangesAsync();
        return job.Id;
    }

    private static RegisteredAgent Agent(string name, bool online) => new()
    {
        Id = Guid.NewGuid(),
        Name = name,
        DeviceName = online ? "NVIDIA H100" : "CPUAccelerator",
        DeviceKind = online ? DeviceKind.Cuda : DeviceKind.Cpu,
        MemoryBytes = 80L << 30,
        ComputeUnits = 132,
        Capacity = 2,
        AgentVersion = "1.0",
        ProtocolVersion = 1,
        ConnectionId = online ? "conn" : null,
        FirstSeenAt = DateTimeOffset.UtcNow,
        LastHeartbeatAt = DateTimeOffset.UtcNow,
    };
}
