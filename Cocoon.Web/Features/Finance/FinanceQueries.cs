using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Finance;

/// <summary>Work done per provider, counted from succeeded units (2·n³ floating-point operations per n×n product).</summary>
public sealed class FinanceQueries(IDbContextFactory<CocoonDbContext> dbFactory, TimeProvider clock)
{
    public async Task<IReadOnlyList<ProviderActivity>> ProviderActivityAsync(int days, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var since = clock.GetUtcNow().AddDays(-days);
        var rows = await (
            from unit in db.WorkUnits.AsNoTracking()
            join job in db.Jobs on unit.JobId equals job.Id
            join agent in db.Agents on unit.AgentId equals agent.Id
            where unit.State == WorkUnitState.Succeeded && unit.Vote != Jobs.UnitVote.Outvoted && unit.CompletedAt >= since
            select new { agent.OwnerAccountId, AgentId = agent.Id, unit.MatrixCount, job.MatrixSize, unit.CompletedAt })
            .ToListAsync(cancellationToken);
        var owners = rows.Select(r => r.OwnerAccountId).OfType<Guid>().Distinct().ToList();
        var names = await db.Set<Account>().AsNoTracking().Where(a => owners.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.FriendlyAddress, cancellationToken);
        return rows
            .GroupBy(r => r.OwnerAccountId)
            .Select(g => new ProviderActivity(
                g.Key is { } owner ? names.GetValueOrDefault(owner, owner.ToString()) : "this portal (local agent)",
                g.Select(r => r.AgentId).Distinct().Count(),
                g.Count(),
                g.Sum(r => 2.0 * r.MatrixSize * r.MatrixSize * (double)r.MatrixSize * r.MatrixCount) / 1e12,
                g.Max(r => r.CompletedAt)))
            .OrderByDescending(a => a.TeraFlops)
            .ToList();
    }
}
