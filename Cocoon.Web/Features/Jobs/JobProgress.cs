using Cocoon.Shared.Jobs;

namespace Cocoon.Web.Features.Jobs;

/// <summary>What the job page shows about progress: derived from the units on each render, never stored.</summary>
public sealed record JobProgress(double Percent, int Running, double UnitsPerSecond, double Gflops, TimeSpan Elapsed, TimeSpan? Eta)
{
    public static JobProgress From(JobView job, IReadOnlyList<WorkUnitView> units, DateTimeOffset now)
    {
        var total = Math.Max(job.UnitsTotal, 1);
        // Partly done units count in proportion, so the bar moves within long units too.
        // Copies run to check a unit are not progress of their own: the unit counts once, when its vote is in.
        var running = units.Count(u => u.State is WorkUnitState.Leased or WorkUnitState.Running);
        units = [.. units.Where(u => u.Replica == 0)];
        var doneFraction = units.Sum(u => u.State == WorkUnitState.Succeeded && u.Vote != "awaiting" ? 1.0 : (double)u.MatricesDone / Math.Max(u.MatrixCount, 1));
        var elapsed = (job.FinishedAt ?? now) - (job.StartedAt ?? job.CreatedAt);
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }

        var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
        var unitsPerSecond = job.UnitsDone / seconds;
        var flopsDone = units.Where(u => u.State == WorkUnitState.Succeeded).Sum(u => 2.0 * job.MatrixSize * job.MatrixSize * job.MatrixSize * u.MatrixCount);
        TimeSpan? eta = job.State == JobState.Running && unitsPerSecond > 0
            ? TimeSpan.FromSeconds((job.UnitsTotal - job.UnitsDone) / unitsPerSecond)
            : null;
        return new JobProgress(
            Percent: job.State == JobState.Succeeded ? 100 : Math.Min(100, 100 * doneFraction / total),
            Running: running,
            UnitsPerSecond: unitsPerSecond,
            Gflops: flopsDone / seconds / 1e9,
            Elapsed: elapsed,
            Eta: eta);
    }

    public static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes:D2}m" : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds:D2}s" : $"{span.TotalSeconds:N1}s";
}
