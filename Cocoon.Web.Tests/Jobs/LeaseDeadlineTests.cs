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
    public void With_history_the_benchmark_may_stretch_the_deadline_a_little_and_never_cut_it()
    {
        // History says 3 s per row (10 rows × 3 s × 4 = 120 s); this agent's benchmark says 160 s: it may take that long.
        Assert.Equal(TimeSpan.FromSeconds(160), LeaseDeadline.Expected(4e12, 100, 3, 10, Options));

        // History of 30 s per row beats a fast benchmark: never cut below it.
        Assert.Equal(TimeSpan.FromSeconds(1200), LeaseDeadline.Expected(4e12, 100, 30, 10, Options));

        // An agent that claims to be very slow gets at most Slack × the history, not the ceiling.
        Assert.Equal(TimeSpan.FromSeconds(480), LeaseDeadline.Expected(4e12, 0.2, 3, 10, Options));

        // A benchmark below belief is ignored: the history alone decides.
        Assert.Equal(TimeSpan.FromSeconds(120), LeaseDeadline.Expected(4e12, 1e-6, 3, 10, Options));
    }

    [Fact]
    public void The_floor_and_the_ceiling_hold()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), LeaseDeadline.Expected(1e6, 100, 0.001, 10, Options));
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(4e15, 1, null, 10, Options));
    }

    [Fact]
    public void Without_an_estimate_the_lease_gets_the_ceiling()
    {
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(null, 100, null, 10, Options));
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(4e12, null, null, 10, Options));
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(4e12, 1e-6, null, 10, Options));
        Assert.Equal(TimeSpan.FromMinutes(120), LeaseDeadline.Expected(double.NaN, 100, double.PositiveInfinity, 10, Options));
    }
}
