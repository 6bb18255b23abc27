using Cocoon.Shared.Jobs;

namespace Cocoon.Web.Features.Jobs;

/// <summary>What the job page shows about progress: derived from its units' tally on each render, never stored.</summary>
public sealed record JobProgress(double Percent, int Running, double UnitsPerSecond, double Gflops, TimeSpan Elapsed, TimeSpan? Eta)
{
    public static JobProgress From(JobView job, UnitTally units, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(units);
        var total = Math.Max(job.UnitsTotal, 1);
        var elapsed = (job.FinishedAt ?? now) - (job.StartedAt ?? job.CreatedAt);
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }

        var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
        var unitsPerSecond = job.UnitsDone / seconds;
        var flopsDone = 2.0 * job.MatrixSize * job.MatrixSize * job.MatrixSize * units.SucceededRows;
        TimeSpan? eta = job.State == JobState.Running && unitsPerSecond > 0
            ? TimeSpan.FromSeconds((job.UnitsTotal - job.UnitsDone) / unitsPerSecond)
            : null;
        return new JobProgress(
            Percent: job.State == JobState.Succeeded ? 100 : Math.Min(100, 100 * units.DoneUnits / total),
            Running: units.Running,
            UnitsPerSecond: unitsPerSecond,
            Gflops: flopsDone / seconds / 1e9,
            Elapsed: elapsed,
            Eta: eta);
    }

    public static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes:D2}m" : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds:D2}s" : $"{span.TotalSeconds:N1}s";
}

/// <summary>
/// A job's units summed (<see cref="JobQueries.TallyAsync"/>): how many run now, how many units are done
/// (partly done ones in proportion; a checked unit once its vote is in; copies not at all), and the rows
/// (products of a matrix job) of the units that succeeded.
/// </summary>
public sealed record UnitTally(int Running, double DoneUnits, long SucceededRows);
