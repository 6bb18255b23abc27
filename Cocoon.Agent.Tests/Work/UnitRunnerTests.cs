using Cocoon.Agent.Compute;
using Cocoon.Agent.Tests.Compute;
using Cocoon.Agent.Work;
using Cocoon.Shared.Work;

namespace Cocoon.Agent.Tests.Work;

public sealed class UnitRunnerTests(CpuDeviceFixture fixture) : IClassFixture<CpuDeviceFixture>
{
    [Fact]
    public void A_unit_is_verified_and_its_digest_is_the_hash_of_the_reference_products()
    {
        var assignment = Assignment(n: 12, first: 5, count: 7, seed: 77);
        var progress = new List<(int Done, int Total)>();
        // A tiny batch budget forces several batches, so batching cannot change the digest.
        var runner = new UnitRunner(fixture.Device, batchMemoryBytes: 5 * 12 * 12 * 4 * 2);

        var result = runner.Run(assignment, (d, t) => progress.Add((d, t)), CancellationToken.None);

        Assert.True(result.Verified);
        Assert.Equal(MatMulReference.OutputDigest(assignment.Work!), result.OutputDigest);
        Assert.Equal(2L * 12 * 12 * 12 * 7, result.Flops);
        Assert.True(result.Gflops > 0);
        Assert.Equal(assignment.LeaseId, result.LeaseId);
        Assert.Equal([(2, 7), (4, 7), (6, 7), (7, 7)], progress);
    }

    [Fact]
    public void A_cancelled_unit_stops()
    {
        var runner = new UnitRunner(fixture.Device, 1 << 20);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => runner.Run(Assignment(8, 0, 2, 1), (_, _) => { }, cts.Token));
    }

    private static WorkAssignment Assignment(int n, long first, int count, long seed) => new()
    {
        LeaseId = Guid.NewGuid(),
        UnitId = Guid.NewGuid(),
        JobId = Guid.NewGuid(),
        UnitIndex = 0,
        Work = new MatMulSpec { MatrixSize = n, FirstMatrix = first, MatrixCount = count, Seed = seed },
    };
}
