namespace Cocoon.Agent.Inference.Memory;

/// <summary>
/// Where every planned float array of a run lies in the model's <see cref="MemoryArena"/>, made from
/// an <see cref="AllocationTrace"/> of a run with the same input shapes. Two arrays share memory only
/// when no step has both alive (a step's inputs, outputs and scratch space are all alive during it, so
/// an operator never writes over what it reads), so the arena is about the largest set of values alive
/// at once, not the sum of all of them: that is what bounds a model's activation memory.
/// Offsets come from placing the largest groups first, each in the lowest gap left by the groups
/// alive beside it (TensorFlow Lite's "greedy by size" placement).
/// </summary>
internal sealed class MemoryPlan
{
    /// <summary>Per step, per request in order: the request's length and its offset (−1: not planned).</summary>
    private readonly (int Length, int Offset)[][] _requests;

    /// <summary>Per step, per output: the offset the output is planned at (−1: not in the arena).</summary>
    private readonly int[][] _outputs;

    private MemoryPlan((int, int)[][] requests, int[][] outputs, int length, long liveFloats, long sumFloats, int groups)
    {
        _requests = requests;
        _outputs = outputs;
        Length = length;
        PeakLiveFloats = liveFloats;
        SumFloats = sumFloats;
        Groups = groups;
    }

    /// <summary>Floats the plan needs in the arena.</summary>
    public int Length { get; }

    /// <summary>The most floats of planned groups alive at one step: what the arena cannot be smaller than.</summary>
    public long PeakLiveFloats { get; }

    /// <summary>Floats of every planned group together: what the run would hold without reuse.</summary>
    public long SumFloats { get; }

    /// <summary>Planned groups of storage (values sharing one array count once; scratch space counts).</summary>
    public int Groups { get; }

    /// <summary>A request the plan places outside the arena (its array leaves the run, or holds nothing).</summary>
    public const int Outside = -1;

    /// <summary>A request the trace did not see: another length, or more requests than traced.</summary>
    public const int Unforeseen = -2;

    /// <summary>
    /// The arena offset of request <paramref name="request"/> of step <paramref name="step"/> when it
    /// asks for <paramref name="length"/> floats as traced; else <see cref="Outside"/> or <see cref="Unforeseen"/>.
    /// </summary>
    public int Request(int step, int request, int length)
    {
        var requests = _requests[step];
        return request < requests.Length && requests[request].Length == length ? requests[request].Offset : Unforeseen;
    }

    /// <summary>Output <paramref name="output"/> of step <paramref name="step"/>'s planned offset, −1 when it belongs outside the arena.</summary>
    public int Output(int step, int output) => output < _outputs[step].Length ? _outputs[step][output] : Outside;

    public static MemoryPlan Build(AllocationTrace trace)
    {
        var (groups, requests, outputs) = trace.Finish();
        var size = groups.Select(g => (long)Align(g.Length)).ToArray();
        var offsets = Enumerable.Repeat(-1L, groups.Count).ToArray();
        var placed = new List<int>();
        var order = Enumerable.Range(0, groups.Count).Where(g => !groups[g].Escapes)
            .OrderByDescending(g => size[g]).ThenBy(g => groups[g].First).ToList();
        foreach (var g in order)
        {
            // The gaps between groups alive at the same time, lowest first: the smallest that fits wins.
            var (best, bestGap, end) = (-1L, long.MaxValue, 0L);
            foreach (var other in placed.Where(p => groups[p].First <= groups[g].Last && groups[g].First <= groups[p].Last).OrderBy(p => offsets[p]))
            {
                var gap = offsets[other] - end;
                if (gap >= size[g] && gap < bestGap)
                {
                    (best, bestGap) = (end, gap);
                }

                end = Math.Max(end, offsets[other] + size[other]);
            }

            offsets[g] = best >= 0 ? best : end;
            placed.Add(g);
        }

        var length = placed.Count == 0 ? 0 : placed.Max(g => offsets[g] + size[g]);
        if (length > Array.MaxLength - MemoryArena.Alignment)
        {
            throw new ModelException($"the model's activations need {length:N0} floats at once, more than one arena holds.");
        }

        int OffsetOf(int group) => group >= 0 ? (int)offsets[group] : Outside;
        return new MemoryPlan(
            [.. requests.Select(step => step.Select(r => (r.Length, OffsetOf(r.Group))).ToArray())],
            [.. outputs.Select(step => step?.Select(OffsetOf).ToArray() ?? [])],
            (int)length,
            PeakLive(groups, placed, trace.Steps),
            placed.Sum(g => (long)groups[g].Length),
            placed.Count);
    }

    /// <summary>Most floats of the placed groups alive at any one step.</summary>
    private static long PeakLive(IReadOnlyList<AllocationTrace.Group> groups, List<int> placed, int steps)
    {
        var change = new long[steps + 1];
        foreach (var g in placed)
        {
            change[groups[g].First] += groups[g].Length;
            change[groups[g].Last + 1] -= groups[g].Length;
        }

        long live = 0, peak = 0;
        foreach (var delta in change)
        {
            live += delta;
            peak = Math.Max(peak, live);
        }

        return peak;
    }

    private static int Align(int length) => (length + MemoryArena.Alignment - 1) / MemoryArena.Alignment * MemoryArena.Alignment;
}
