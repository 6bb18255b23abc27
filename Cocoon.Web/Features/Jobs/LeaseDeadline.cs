namespace Cocoon.Web.Features.Jobs;

/// <summary>
/// How long a lease may take: the unit's expected work with slack, from two estimates, taking the more
/// lenient (an honest agent cut off is quarantined for nothing): the unit's FLOPs ÷ the agent's own
/// benchmark, and what the job's finished units took per row. Within [MinLeaseSeconds, MaxLeaseMinutes];
/// the maximum when neither estimate exists yet. Past it the lease ends and the unit goes elsewhere.
/// </summary>
public static class LeaseDeadline
{
    /// <summary>How many times the estimate a unit may take.</summary>
    public const double Slack = 4;

    /// <param name="unitFlops">The unit's work, when known (matrix jobs: exactly; model jobs: from the job's finished units).</param>
    /// <param name="agentGflops">The agent's benchmark in GFLOP/s, when it reported one.</param>
    /// <param name="secondsPerRow">What the job's finished units took per row, when any finished.</param>
    /// <param name="rows">The unit's rows (matrices for a matrix job).</param>
    public static TimeSpan Expected(double? unitFlops, double? agentGflops, double? secondsPerRow, int rows, JobsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (shortest, longest) = (TimeSpan.FromSeconds(options.MinLeaseSeconds), TimeSpan.FromMinutes(options.MaxLeaseMinutes));
        var estimates = new List<double>(2);
        if (unitFlops is > 0 && agentGflops is > 0 && double.IsFinite(unitFlops.Value / agentGflops.Value))
        {
            estimates.Add(Slack * unitFlops.Value / (agentGflops.Value * 1e9));
        }

        if (secondsPerRow is >= 0 && double.IsFinite(secondsPerRow.Value))
        {
            estimates.Add(Slack * secondsPerRow.Value * Math.Max(rows, 1));
        }

        if (estimates.Count == 0)
        {
            return longest;
        }

        var expected = TimeSpan.FromSeconds(Math.Min(estimates.Max(), longest.TotalSeconds));
        return expected < shortest ? shortest : expected;
    }
}
