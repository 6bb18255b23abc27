namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// Weighted fair share of free dispatch slots between accounts (max-min fairness, as a fair queue
/// serves flows): each free slot goes to the account with work pending whose running units per unit of
/// weight are fewest, so an account's million-unit job cannot starve another's ten-unit job, and an
/// account with weight 3 runs three units for every one of an account with weight 1 while both have
/// work. An account at its concurrency limit gets no more. Within an account, its units come in the
/// order given (its jobs' priority, then age). Ties go to the account whose next unit waited longest.
/// </summary>
public static class FairShare
{
    /// <summary>A pending unit that could be dispatched: its account (Guid.Empty for jobs without an owner) and when it was queued.</summary>
    public sealed record Candidate(Guid UnitId, Guid AccountId, DateTimeOffset QueuedAt);

    /// <summary>An account's standing: units it runs now (or has requested), its weight (≥ 1), and its concurrency limit (null: none).</summary>
    public sealed record Standing(int Running, int Weight, int? Limit);

    /// <summary>
    /// Chooses up to <paramref name="free"/> units from <paramref name="candidates"/>, which list each
    /// account's units in the order that account's units should go; the result is in dispatch order.
    /// Accounts missing from <paramref name="standings"/> run nothing yet, weigh 1 and have no limit.
    /// </summary>
    public static IReadOnlyList<Guid> Allocate(IReadOnlyList<Candidate> candidates, IReadOnlyDictionary<Guid, Standing> standings, int free)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(standings);
        var queues = candidates.GroupBy(c => c.AccountId).ToDictionary(g => g.Key, g => new Queue<Candidate>(g));
        var running = queues.Keys.ToDictionary(a => a, a => standings.GetValueOrDefault(a)?.Running ?? 0);
        var chosen = new List<Guid>(Math.Min(free, candidates.Count));

        // Ordered by share used (running ÷ weight, compared exactly as running × other weight), then the next unit's age.
        var turn = new PriorityQueue<Guid, (long Running, long Weight, DateTimeOffset Next)>(Comparer<(long Running, long Weight, DateTimeOffset Next)>.Create(
            (a, b) => (a.Running * b.Weight).CompareTo(b.Running * a.Weight) is var share && share != 0 ? share : a.Next.CompareTo(b.Next)));
        foreach (var account in queues.Keys)
        {
            Enqueue(account);
        }

        while (chosen.Count < free && turn.TryDequeue(out var next, out _))
        {
            chosen.Add(queues[next].Dequeue().UnitId);
            running[next]++;
            Enqueue(next);
        }

        return chosen;

        void Enqueue(Guid account)
        {
            var standing = standings.GetValueOrDefault(account);
            if (queues[account].Count > 0 && (standing?.Limit is not { } limit || running[account] < limit))
            {
                turn.Enqueue(account, (running[account], Math.Max(standing?.Weight ?? 1, 1), queues[account].Peek().QueuedAt));
            }
        }
    }
}
