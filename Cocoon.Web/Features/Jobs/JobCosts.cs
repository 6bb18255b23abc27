using System.Globalization;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// A job's cost as its owner sees it: the charge so far, an estimate of the whole, and the price per
/// TFLOP of every agent that ran its units. The estimate scales what the finished rows cost to all rows;
/// before any row is done a matrix job is priced at the cheapest online agent its cap allows.
/// </summary>
public sealed class JobCosts(
    IDbContextFactory<CocoonDbContext> dbFactory,
    JobQueries queries,
    TimeProvider clock,
    IOptions<AgentLinkOptions> link,
    IOptions<Money.MoneyOptions> money)
{
    /// <summary>The job's costs, or null when it does not exist or the viewer may not see it.</summary>
    public async Task<JobCostView?> GetAsync(Viewer viewer, Guid jobId, CancellationToken cancellationToken = default)
    {
        if (await queries.GetAsync(viewer, jobId, cancellationToken) is not { } job)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ran = await (
            from l in db.Leases
            join u in db.WorkUnits on l.WorkUnitId equals u.Id
            where u.JobId == jobId && l.Outcome == LeaseOutcome.Succeeded
            group u.MatrixCount by new { l.AgentId, l.PricePerTflop } into g
            select new { g.Key.AgentId, g.Key.PricePerTflop, Units = g.Count(), Rows = g.Sum(r => (long)r) })
            .ToListAsync(cancellationToken);
        var ids = ran.Select(r => r.AgentId).Distinct().ToList();
        var names = await db.Agents.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);

        var charged = long.Parse(job.Charged, CultureInfo.InvariantCulture);
        var rowsDone = ran.Sum(r => r.Rows);

        // Rows to run in all: a checked job runs some rows on several agents, and each copy is charged.
        var rowsPlanned = await db.WorkUnits.Where(u => u.JobId == jobId && u.Vote != UnitVote.Outvoted).SumAsync(u => (long)u.MatrixCount, cancellationToken);
        rowsPlanned = Math.Max(rowsPlanned, job.MatrixCount);
        var (estimate, basis) = job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled
            ? (charged, "The job has ended: this is its final charge.")
            : rowsDone > 0
                ? ((long?)(long)Math.Ceiling((decimal)charged * rowsPlanned / rowsDone), rowsPlanned > job.MatrixCount
                    ? $"All {job.MatrixCount:N0} rows and the {rowsPlanned - job.MatrixCount:N0} run again on other agents to check them, at what the {rowsDone:N0} finished so far cost."
                    : $"All {job.MatrixCount:N0} rows at what the {rowsDone:N0} finished so far cost.")
                : job.Kind == JobKind.MatMul
                    ? await CheapestEstimateAsync(db, job, cancellationToken)
                    : (null, "Known once the first unit has run: a model's cost per row is counted by the agent that loads it.");
        return new JobCostView
        {
            Charged = job.Charged,
            Budget = job.Budget,
            Estimate = estimate?.ToString(CultureInfo.InvariantCulture),
            EstimateBasis = basis,
            Agents = ran.OrderByDescending(r => r.Units).Select(r => new AgentCostView
            {
                AgentId = r.AgentId,
                Name = names.GetValueOrDefault(r.AgentId, "(removed)"),
                PricePerTflop = r.PricePerTflop.ToString(CultureInfo.InvariantCulture),
                Units = r.Units,
                Rows = r.Rows,
            }).ToList(),
        };
    }

    private async Task<(long?, string)> CheapestEstimateAsync(CocoonDbContext db, JobView job, CancellationToken cancellationToken)
    {
        var onlineSince = clock.GetUtcNow() - link.Value.AgentTimeout;
        var fallback = money.Value.DefaultPricePerTflop;
        long? cap = job.MaxPricePerTflop is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : null;
        var prices = await db.Agents.AsNoTracking()
            .Where(a => a.ConnectionId != null && a.LastHeartbeatAt > onlineSince && a.QuarantinedAt == null)
            .Select(a => a.PricePerTflop ?? fallback)
            .ToListAsync(cancellationToken);
        var eligible = prices.Where(p => cap is null || p <= cap).ToList();
        if (eligible.Count == 0)
        {
            return (null, cap is null ? "No agent is online to price it." : $"No agent under {Ledger.Ton.Format(cap.Value)} TON/TFLOP is online.");
        }

        var cheapest = eligible.Min();
        var flops = 2.0 * job.MatrixSize * job.MatrixSize * job.MatrixSize * job.MatrixCount;
        var (cost, fee) = Money.Pricing.UnitCharge(flops, cheapest, money.Value.FeePercent);
        return (cost + fee, $"{flops / 1e12:G4} TFLOP at the cheapest agent online ({Ledger.Ton.Format(cheapest)} TON/TFLOP) plus the {money.Value.FeePercent} % fee.");
    }
}
