namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// How long a lease may take: the unit's expected work with slack. From the unit's FLOPs ÷ the agent's
/// own benchmark, which lets a slower agent take longer; but the benchmark is the agent's word, so once
/// the job has history (what its finished units took per row) the benchmark's estimate may stretch that
/// at most <see cref="Slack"/> times, and never cut it (an honest agent cut off is quarantined for
/// nothing). Within [MinLeaseSeconds, MaxLeaseMinutes]; the maximum when neither estimate exists yet.
/// Past it the lease ends and the unit goes elsewhere.
/// </summary>
public static class LeaseDeadline
{
    /// <summary>How many times the estimate a unit may take.</summary>
    public const double Slack = 4;

    /// <summary>Below this a benchmark is not believed (GFLOP/s): it would only buy the agent time.</summary>
    public const double LeastBelievableGflops = 0.1;

    /// <param name="unitFlops">The unit's work, when known (matrix jobs: exactly; model jobs: from the job's finished units).</param>
    /// <param name="agentGflops">The agent's benchmark in GFLOP/s, when it reported one.</param>
    /// <param name="secondsPerRow">What the job's finished units took per row, when any finished.</param>
    /// <param name="rows">The unit's rows (matrices for a matrix job).</param>
    public static TimeSpan Expected(double? unitFlops, double? agentGflops, double? secondsPerRow, int rows, JobsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (shortest, longest) = (TimeSpan.FromSeconds(options.MinLeaseSeconds), TimeSpan.FromMinutes(options.MaxLeaseMinutes));
        double? fromBenchmark = unitFlops is > 0 && agentGflops >= LeastBelievableGflops && double.IsFinite(unitFlops.Value / agentGflops.Value)
            ? Slack * unitFlops.Value / (agentGflops.Value * 1e9)
            : null;
        double? fromHistory = secondsPerRow is >= 0 && double.IsFinite(secondsPerRow.Value) ? Slack * secondsPerRow.Value * Math.Max(rows, 1) : null;
        double? seconds = (fromBenchmark, fromHistory) switch
        {
            ({ } b, { } h) => Math.Clamp(b, h, Slack * h),
            ({ } b, null) => b,
            (null, { } h) => h,
            _ => null,
        };
        if (seconds is null)
        {
            return longest;
        }

        var expected = TimeSpan.FromSeconds(Math.Min(seconds.Value, longest.TotalSeconds));
        return expected < shortest ? shortest : expected;
    }
}
