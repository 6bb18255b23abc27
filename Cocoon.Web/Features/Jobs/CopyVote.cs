using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// Checks a model unit run on several agents (a job's redundancy, or a spot check): the portal cannot
/// read outputs, so it compares the SHA-256 of the plaintext output each agent signed. Once every copy
/// is in, the digest that at least two copies gave and more copies gave than any other wins; a tie
/// runs the unit once more on yet another agent, up to <see cref="ExtraCopies"/> beyond those asked
/// for. Copies that agree are paid then; a copy that disagrees is not, its lease counts as failed
/// against its agent's reputation, and a <see cref="Dispute"/> records the signed digests.
/// </summary>
public static class CopyVote
{
    /// <summary>Copies run beyond the planned ones to break ties before the unit is given up.</summary>
    public const int ExtraCopies = 2;

    /// <summary>What to do once a copy's result is in.</summary>
    public enum VoteStep
    {
        /// <summary>Other copies are still running.</summary>
        Wait,

        /// <summary>A digest won.</summary>
        Decided,

        /// <summary>No digest leads: run one more copy on another agent.</summary>
        RunAnother,

        /// <summary>No digest leads and no more copies may run: the unit fails.</summary>
        NoMajority,
    }

    /// <summary>The decision for a unit's copies (<paramref name="digests"/>: one per copy, null for one not finished).</summary>
    public static (VoteStep Step, string? Winner) Decide(IReadOnlyList<string?> digests, int plannedCopies)
    {
        ArgumentNullException.ThrowIfNull(digests);
        if (digests.Any(d => d is null))
        {
            return (VoteStep.Wait, null);
        }

        var tally = digests.GroupBy(d => d!, StringComparer.Ordinal).Select(g => (Digest: g.Key, Count: g.Count())).OrderByDescending(t => t.Count).ToList();
        var lead = tally[0];
        if (lead.Count >= 2 && (tally.Count == 1 || lead.Count > tally[1].Count))
        {
            return (VoteStep.Decided, lead.Digest);
        }

        return digests.Count < plannedCopies + ExtraCopies ? (VoteStep.RunAnother, null) : (VoteStep.NoMajority, null);
    }

    /// <summary>A copy that lost the vote, for its agent's quarantine check after commit.</summary>
    public sealed record Loser(Guid AgentId, Guid LeaseId);

    /// <summary>
    /// After a copy of <paramref name="unit"/> succeeded (inside the result's transaction, job locked):
    /// decides if all copies are in, pays the agreeing ones through <paramref name="settle"/>, records
    /// disputes against the others, queues a tie-breaking copy, or fails the job when no majority can be had.
    /// </summary>
    /// <returns>The outvoted copies and, when the job failed, its leases to stop.</returns>
    internal static async Task<(IReadOnlyList<Loser> Losers, IReadOnlyList<StoppedLease> Stopped)> CountAsync(
        CocoonDbContext db, Job job, WorkUnit unit, DateTimeOffset now, Func<WorkUnit, Lease, Task> settle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentNullException.ThrowIfNull(settle);
        var copies = await db.WorkUnits.FromSql($"SELECT * FROM work_units WHERE job_id = {job.Id} AND index = {unit.Index} ORDER BY replica FOR UPDATE")
            .ToListAsync(cancellationToken);
        // Planned: the job's redundancy, or two for a spot-checked unit.
        var (step, winner) = Decide([.. copies.Select(c => c.State == WorkUnitState.Succeeded ? c.PlainDigest : null)], Math.Max(job.Redundancy, 2));
        switch (step)
        {
            case VoteStep.Wait:
                return ([], []);
            case VoteStep.RunAnother:
                db.WorkUnits.Add(new WorkUnit
                {
                    Id = Guid.CreateVersion7(),
                    JobId = job.Id,
                    Index = unit.Index,
                    Replica = copies.Max(c => c.Replica) + 1,
                    FirstMatrix = unit.FirstMatrix,
                    MatrixCount = unit.MatrixCount,
                    State = WorkUnitState.Pending,
                    QueuedAt = now,
                    LastError = $"Its {copies.Count} copies disagree; one more runs on another agent to break the tie.",
                });
                await db.SaveChangesAsync(cancellationToken);
                return ([], []);
            case VoteStep.NoMajority:
                foreach (var lease in await CopyLeasesAsync(db, copies, cancellationToken))
                {
                    lease.AwaitingVote = false;
                }

                // The unit failed: no output of it is trusted (a retry runs every copy again).
                foreach (var copy in copies)
                {
                    copy.State = WorkUnitState.Failed;
                    copy.OutputBlobId = null;
                    copy.LastError = $"No two of its {copies.Count} copies agreed.";
                }

                await db.SaveChangesAsync(cancellationToken);
                var reason = $"Unit {unit.Index}: no two of the {copies.Count} agents that ran it agreed on its output, so it cannot be trusted. " +
                    "The agents' signed digests are kept with the job's units; none of those copies was paid.";
                return ([], await JobControl.EndAsync(db, job, JobState.Failed, reason, now, cancellationToken));
        }

        var leases = (await CopyLeasesAsync(db, copies, cancellationToken)).ToDictionary(l => l.Id);
        var agentIds = leases.Values.Select(l => l.AgentId).ToList();
        var agents = await db.Agents.AsNoTracking().Where(a => agentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
        var accepted = copies.First(c => c.PlainDigest == winner);
        var primary = copies.Single(c => c.Replica == 0);
        var evidence = $"Unit {unit.Index} of job '{job.Name}' (rows {unit.FirstMatrix}–{unit.FirstMatrix + unit.MatrixCount - 1}) ran on {copies.Count} agents. " +
            "Each signed the SHA-256 of its plaintext output with its pairing key (the portal checked every signature): " +
            string.Join("; ", copies.Select(c =>
            {
                var lease = leases[c.CurrentLeaseId!.Value];
                return $"{agents.GetValueOrDefault(lease.AgentId, "?")} (lease {lease.Id}) {c.PlainDigest}, signature {Convert.ToBase64String(c.PlainDigestSignature ?? [])}";
            })) +
            $". {copies.Count(c => c.PlainDigest == winner)} agree on {winner}; the developer receives that output. The outvoted copy was not paid.";

        // Saved before any copy is paid: a paid copy's reservation must not count against the next one's.
        foreach (var lease in leases.Values)
        {
            lease.AwaitingVote = false;
        }

        await db.SaveChangesAsync(cancellationToken);
        if (job.FlopsPerRow is null && accepted.Flops > 0)
        {
            // A checked job's price per row is fixed by a result the vote upheld, not by whoever finished first.
            job.FlopsPerRow = accepted.Flops.Value / Math.Max(accepted.MatrixCount, 1);
        }

        var losers = new List<Loser>();
        foreach (var copy in copies)
        {
            var lease = leases[copy.CurrentLeaseId!.Value];
            if (copy.PlainDigest == winner)
            {
                copy.Vote = UnitVote.Agreed;
                await settle(copy, lease);
                continue;
            }

            copy.Vote = UnitVote.Outvoted;
            lease.Outcome = LeaseOutcome.Failed;
            losers.Add(new Loser(lease.AgentId, lease.Id));
            db.Add(new Dispute
            {
                Id = Guid.CreateVersion7(),
                At = now,
                JobId = job.Id,
                WorkUnitId = copy.Id,
                UnitIndex = copy.Index,
                LeaseId = lease.Id,
                AgentId = lease.AgentId,
                Kind = "Vote",
                Reported = copy.PlainDigest!,
                Expected = winner!,
                Evidence = evidence,
            });
        }

        // The unit itself holds the output the majority agreed on; the copies' outputs are not needed
        // (no unit names them now, so the orphan sweep removes them from the developer's storage).
        primary.OutputBlobId = accepted.OutputBlobId;
        primary.OutputDigest = accepted.OutputDigest;
        foreach (var copy in copies.Where(c => c.Replica > 0))
        {
            copy.OutputBlobId = null;
        }

        await db.SaveChangesAsync(cancellationToken);
        return (losers, []);
    }

    private static Task<List<Lease>> CopyLeasesAsync(CocoonDbContext db, IReadOnlyList<WorkUnit> copies, CancellationToken cancellationToken)
    {
        var ids = copies.Where(c => c.CurrentLeaseId != null).Select(c => c.CurrentLeaseId!.Value).ToList();
        return db.Leases.Where(l => ids.Contains(l.Id)).ToListAsync(cancellationToken);
    }
}
