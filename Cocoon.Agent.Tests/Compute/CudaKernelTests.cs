using Cocoon.Agent.Compute;
using Cocoon.Agent.Work;
using Cocoon.Shared.Work;
using ILGPU.Runtime;

namespace Cocoon.Agent.Tests.Compute;

/// <summary>The same kernel on a real NVIDIA GPU; skipped where ILGPU finds no CUDA device.</summary>
[Trait("Category", "Gpu")]
public sealed class CudaKernelTests
{
    [SkippableFact]
    public void Cuda_products_equal_the_reference()
    {
        using (var context = DeviceCatalog.CreateContext())
        {
            Skip.IfNot(context.Devices.Any(d => d.AcceleratorType == AcceleratorType.Cuda), "No CUDA device on this machine.");
        }

        using var device = ComputeDevice.Open("cuda");
        const int n = 256;
        const int count = 4;
        var a = new float[n * n * count];
        var b = new float[n * n * count];
        for (var m = 0; m < count; m++)
        {
            MatMulInputs.Fill(7, m, n, a.AsSpan(m * n * n, n * n), b.AsSpan(m * n * n, n * n));
        }

        var gpu = new float[a.Length];
        var expected = new float[a.Length];
        device.MultiplyBatch(a, b, gpu, n, count);
        MatMulReference.MultiplyBatch(a, b, expected, n, count);
        Assert.Equal(expected, gpu);
    }
}
