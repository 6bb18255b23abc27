using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// The rules a unit's agent must meet (the dispatcher's query applies them: <c>Dispatcher.PickAgentAsync</c>)
/// told in words: why a running job's pending units are waiting, naming the first rule no online
/// agent meets, or that every agent that qualifies is busy.
/// </summary>
public static class AgentMatch
{
    /// <summary>
    /// Why the job's pending units wait; null when it has none, is not running, or an agent that
    /// qualifies has room (its next unit is on the way).
    /// </summary>
    public static async Task<string?> WaitingAsync(CocoonDbContext db, Job job, DateTimeOffset onlineSince, long defaultPrice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(job);
        if (job.State != Shared.Jobs.JobState.Running
            || !await db.WorkUnits.AnyAsync(u => u.JobId == job.Id && u.State == Shared.Jobs.WorkUnitState.Pending, cancellationToken))
        {
            return null;
        }

        var agents = await db.Database.SqlQuery<Candidate>($"""
            SELECT a.name, a.device_kind, a.memory_bytes, a.evidence_kind, a.measurement_set_id IS NOT NULL AS measured,
                   a.benchmark_score, coalesce(a.price_per_tflop, {defaultPrice}) AS price, a.capacity,
                   (SELECT count(*)::int FROM leases l WHERE l.agent_id = a.id AND l.ended_at IS NULL) AS active,
                   CASE WHEN {job.MinReputation is null} THEN 1 ELSE (SELECT r.score FROM agent_reputations r WHERE r.agent_id = a.id) END AS reputation,
                   EXISTS (SELECT 1 FROM key_grants g WHERE g.job_id = {job.Id} AND g.agent_id = a.id AND g.enclave_public_key = a.enclave_public_key) AS granted
            FROM agents a
            WHERE a.connection_id IS NOT NULL AND a.last_heartbeat_at > {onlineSince} AND a.quarantined_at IS NULL
            """).ToListAsync(cancellationToken);
        return Explain(job, agents) ?? (job.Checked ? await CopiesWaitingAsync(db, job, onlineSince, defaultPrice, cancellationToken) : null);
    }

    /// <summary>
    /// Agents qualify and have room, yet none may take any pending copy: each has run (or holds) another
    /// copy of the same unit, or is of another device kind than the unit's other copies ran on.
    /// </summary>
    private static async Task<string?> CopiesWaitingAsync(CocoonDbContext db, Job job, DateTimeOffset onlineSince, long defaultPrice, CancellationToken cancellationToken)
    {
        var takeable = await db.Database.SqlQuery<bool>($"""
            SELECT EXISTS (
                SELECT 1 FROM work_units w JOIN jobs j ON j.id = w.job_id, agents a
                WHERE w.job_id = {job.Id} AND w.state = 'Pending'
                  AND a.connection_id IS NOT NULL AND a.last_heartbeat_at > {onlineSince} AND a.quarantined_at IS NULL
                  AND (SELECT count(*) FROM leases l WHERE l.agent_id = a.id AND l.ended_at IS NULL) < a.capacity
                  AND cocoon_agent_fits(j, a, {defaultPrice})
                  AND cocoon_copy_fits(w, a)) AS "Value"
            """).SingleAsync(cancellationToken);
        return takeable ? null
            : "Its units are compared across agents: each pending copy needs an agent of the same device kind as its other copies that has not run one of them, and no such agent with room is online.";
    }

    /// <summary>An online agent as matching sees it.</summary>
    public sealed record Candidate(string Name, string DeviceKind, long MemoryBytes, string? EvidenceKind, bool Measured, double? BenchmarkScore, long Price, int Capacity, int Active, double Reputation, bool Granted);

    /// <summary>The reason, from the online agents: each rule in turn narrows them, and the first that leaves none is named.</summary>
    public static string? Explain(Job job, IReadOnlyList<Candidate> online)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(online);
        if (online.Count == 0)
        {
            return "No agent is online.";
        }

        var left = online;
        string? Narrow(Func<Candidate, bool> rule, Func<IReadOnlyList<Candidate>, string> reason)
        {
            var kept = left.Where(rule).ToList();
            if (kept.Count == 0)
            {
                // Said of the agents the earlier rules left, which may not be all that are online.
                return left.Count == online.Count ? reason(left)
                    : $"{reason(left)[..^1]} among the {left.Count} of {online.Count} online that meet its other rules.";
            }

            left = kept;
            return null;
        }

        var agents = online.Count == 1 ? "The one agent online" : $"None of the {online.Count} agents online";
        return (job.Kind == Shared.Jobs.JobKind.Model ? Narrow(a => a.Granted, _ => $"{agents} holds a key grant for this job (grant its keys to more agents in a new job).") : null)
            ?? (job.MaxPricePerTflop is { } cap
                ? Narrow(a => a.Price <= cap, l => $"No agent online at or under {Ledger.Ton.Format(cap)} TON/TFLOP (the cheapest asks {Ledger.Ton.Format(l.Min(a => a.Price))}).")
                : null)
            ?? job.DeviceClass switch
            {
                DeviceClass.Gpu => Narrow(a => a.DeviceKind != "Cpu", _ => "No GPU agent online."),
                DeviceClass.Cpu => Narrow(a => a.DeviceKind == "Cpu", _ => "No CPU agent online."),
                _ => null,
            }
            ?? Narrow(a => a.MemoryBytes >= job.MinMemoryBytes, l => $"No agent online has the {Megabytes(job.MinMemoryBytes)} of memory the job needs (the most any has is {Megabytes(l.Max(a => a.MemoryBytes))}).")
            ?? (job.AttestedOnly ? Narrow(a => a.EvidenceKind == "Tdx" && a.Measured, _ => "No agent with TDX attestation to an allowed measurement set is online.") : null)
            ?? (job.MinBenchmarkScore is { } score
                ? Narrow(a => (a.BenchmarkScore ?? 0) >= score, l => $"No agent online with a benchmark score of at least {score:N1} GFLOP/s (the best has {l.Max(a => a.BenchmarkScore ?? 0):N1}).")
                : null)
            ?? (job.MinReputation is { } reputation
                ? Narrow(a => a.Reputation >= reputation, l => $"No agent online with a reputation of at least {reputation:P0} (the best has {l.Max(a => a.Reputation):P0}).")
                : null)
            ?? (left.All(a => a.Active >= a.Capacity)
                ? $"{(left.Count == 1 ? "The one agent that qualifies is" : $"All {left.Count} agents that qualify are")} busy ({left.Sum(a => a.Active)} unit(s) running on them)."
                : null);
    }

    private static string Megabytes(long bytes) => $"{bytes / 1e6:N1} MB";
}
