using Cocoon.Agent.Compute;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Work;
using Cocoon.Shared.Work;
using ILGPU.Runtime;

namespace Cocoon.Agent.Tests.Work;

public sealed class UnitRunnerTests
{
    [Theory]
    [InlineData("cpu", 12, 7)]
    [InlineData("cpu", 67, 3)]
    [InlineData("ilgpu-cpu", 12, 7)]
    public void A_unit_is_verified_and_its_digest_is_the_hash_of_the_reference_products(string choice, int n, int count)
    {
        using var device = InferenceDevice.Open(choice);
        var assignment = Assignment(n, first: 5, count, seed: 77);
        var progress = new List<(int Done, int Total)>();
        // A tiny batch budget forces several batches (the last one shorter), so batching cannot change the digest.
        var runner = new UnitRunner(device, batchMemoryBytes: 5L * n * n * 4 * 2);

        var result = runner.Run(assignment, (d, t) => progress.Add((d, t)), CancellationToken.None);

        Assert.True(result.Verified);
        Assert.Equal(MatMulReference.OutputDigest(assignment.Work!), result.OutputDigest);
        Assert.Equal(2L * n * n * n * count, result.Flops);
        Assert.True(result.Gflops > 0);
        Assert.Equal(assignment.LeaseId, result.LeaseId);
        Assert.Equal([.. Enumerable.Range(1, count).Where(d => d % 2 == 0 || d == count).Select(d => (d, count))], progress);
        Assert.Equal(device.Name, result.DeviceName);
        Assert.StartsWith(choice + ": ", result.DeviceName, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cpu_device_runs_matrix_units_on_the_simd_kernels()
    {
        using var device = InferenceDevice.Open("cpu");
        var result = new UnitRunner(device, 1 << 20).Run(Assignment(8, 0, 2, 1), (_, _) => { }, CancellationToken.None);
        Assert.Null(device.Gpu);
        Assert.Equal(InferenceDevice.Cpu().Name, result.DeviceName);
    }

    [Fact]
    public void Products_of_zero_and_a_negative_hash_as_the_reference_does()
    {
        // 1×1 products: 0 × -3 is -0 in IEEE arithmetic; the reference sums from +0, so +0 is the answer.
        var assignment = Assignment(n: 1, first: 0, count: 300, seed: 3);
        var result = new UnitRunner(InferenceDevice.Cpu(), 1 << 20).Run(assignment, (_, _) => { }, CancellationToken.None);
        Assert.True(result.Verified);
        Assert.Equal(MatMulReference.OutputDigest(assignment.Work!), result.OutputDigest);
    }

    [Fact]
    public void A_cancelled_unit_stops()
    {
        var runner = new UnitRunner(InferenceDevice.Cpu(), 1 << 20);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => runner.Run(Assignment(8, 0, 2, 1), (_, _) => { }, cts.Token));
    }

    [SkippableFact]
    [Trait("Category", "Gpu")]
    public void A_unit_on_cuda_gives_the_reference_digest()
    {
        using (var context = DeviceCatalog.CreateContext())
        {
            Skip.IfNot(context.Devices.Any(d => d.AcceleratorType == AcceleratorType.Cuda), "No CUDA device on this machine.");
        }

        using var device = InferenceDevice.Open("cuda");
        var assignment = Assignment(n: 256, first: 0, count: 4, seed: 7);
        var result = new UnitRunner(device, 64L << 20).Run(assignment, (_, _) => { }, CancellationToken.None);
        Assert.True(result.Verified);
        Assert.Equal(MatMulReference.OutputDigest(assignment.Work!), result.OutputDigest);
        Assert.StartsWith("cuda: ", result.DeviceName, StringComparison.Ordinal);
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
