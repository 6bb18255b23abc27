using Cocoon.Shared.Jobs;
using Cocoon.Web.Features.Jobs;

namespace Cocoon.Web.Tests.Jobs;

public sealed class JobProgressTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Partly_done_units_move_the_bar_and_the_rate_gives_an_eta()
    {
        var job = Job(JobState.Running, unitsDone: 2, total: 4);
        // Two units of ten products done, one running with five of its ten, one waiting.
        var progress = JobProgress.From(job, new UnitTally(Running: 1, DoneUnits: 2.5, SucceededRows: 20), Start.AddSeconds(10));

        Assert.Equal(62.5, progress.Percent, 3);
        Assert.Equal(1, progress.Running);
        Assert.Equal(0.2, progress.UnitsPerSecond, 3);
        Assert.Equal(TimeSpan.FromSeconds(10), progress.Eta);
        Assert.Equal(2.0 * 4 * 4 * 4 * 20 / 10 / 1e9, progress.Gflops, 12);
    }

    [Fact]
    public void A_finished_job_is_full_and_has_no_eta()
    {
        var job = Job(JobState.Succeeded, 1, 1) with { FinishedAt = Start.AddSeconds(3) };
        var progress = JobProgress.From(job, new UnitTally(0, 1, 10), Start.AddHours(1));
        Assert.Equal(100, progress.Percent);
        Assert.Null(progress.Eta);
        Assert.Equal(TimeSpan.FromSeconds(3), progress.Elapsed);
    }

    [Theory]
    [InlineData(0.5, "0.5s")]
    [InlineData(75, "1m 15s")]
    [InlineData(3725, "1h 02m")]
    public void Durations_read_naturally(double seconds, string text) =>
        Assert.Equal(text, JobProgress.Format(TimeSpan.FromSeconds(seconds)).Replace(',', '.'));

    private static JobView Job(JobState state, int unitsDone, int total) => new()
    {
        Id = Guid.NewGuid(),
        Name = "j",
        State = state,
        MatrixSize = 4,
        MatrixCount = total * 10,
        MatricesPerUnit = 10,
        Seed = 1,
        UnitsTotal = total,
        UnitsDone = unitsDone,
        CreatedAt = Start,
        StartedAt = Start,
    };
}
