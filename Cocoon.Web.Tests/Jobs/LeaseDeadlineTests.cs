using Cocoon.Web.Features.Jobs;

namespace Cocoon.Web.Tests.Jobs;

public sealed class LeaseDeadlineTests
{
    private static readonly JobsOptions Options = new() { MinLeaseSeconds = 60, MaxLeaseMinutes = 120 };

    [Fact]
    public void Flops_over_the_agents_benchmark_with_slack_set_the_deadline()
    {
        // 4 TFLOP on a 100 GFLOP/s agent: 40 s of work, 160 s with slack.
        Assert.Equal(TimeSpan.FromSeconds(160), LeaseDeadline.Expected(4e12, 100, null, 10, Options));

        // The same unit on an agent ten times slower gets ten times as long.
        Assert.Equal(TimeSpan.FromSeconds(1600), LeaseDeadline.Expected(4e12, 10, null, 10, Options));
    }

    [Fact]
    public void The_more_lenient_estimate_wins_within_the_floor_and_the_ceiling()
    {
        // The job's history says 30 s per row: 10 rows × 30 s × 4 beats the benchmark's 160 s.
        Assert.Equal(TimeSpan.FromSeconds(1200), LeaseDeadline.Expected(4e12, 100, 30, 10, Options));

        // Tiny work still gets the floor; huge work (or a benchmark that claims nothing) stops at the ceiling.
        Assert.Equal(TimeSpan.FromSeconds(60), LeaseDeadline.Expected(1e6, 100, 0.001, 10, Options));
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(4e12, 1e-6, null, 10, Options));
    }

    [Fact]
    public void Without_an_estimate_the_lease_gets_the_ceiling()
    {
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(null, 100, null, 10, Options));
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(4e12, null, null, 10, Options));
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(double.NaN, 100, double.PositiveInfinity, 10, Options));
    }
}
