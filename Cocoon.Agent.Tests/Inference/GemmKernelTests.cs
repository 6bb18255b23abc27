using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Memory;
using Cocoon.Agent.Inference.Operators;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>The CPU GEMM called directly, as harnesses do, without an epilogue: C = A · B.</summary>
public sealed class GemmKernelTests
{
    [Theory]
    [InlineData(1, 7, 5)]
    [InlineData(37, 300, 61)]
    [InlineData(130, 64, 200)]
    [InlineData(8, 600, 100)]
    [InlineData(1, 512, 512)]
    [InlineData(3, 700, 130)]
    [InlineData(1, 4096, 1000)]
    [InlineData(2, 2000, 4096)]
    [InlineData(5, 1000, 777)]
    public void A_product_without_an_epilogue_is_a_times_b(int m, int k, int n)
    {
        var random = new Random(m + k + n);
        var a = ReferenceModels.Values(random, m * k, 1);
        var b = ReferenceModels.Values(random, k * n, 1);
        var expected = new float[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < k; p++)
                {
                    sum += (double)a[(i * k) + p] * b[(p * n) + j];
                }

                expected[(i * n) + j] = (float)sum;
            }
        }

        var whole = new float[m * n];
        GemmKernel.Multiply(a, 0, b, 0, whole, 0, m, k, n);
        OrtReference.AssertClose(expected, whole, "Multiply");

        var prepacked = new float[m * n];
        GemmKernel.Multiply(a, 0, b, 0, prepacked, 0, m, k, n, packedB: GemmKernel.Prepack(b, k, n));
        OrtReference.AssertClose(expected, prepacked, "Multiply with B prepacked");

        var columns = new float[m * n];
        GemmKernel.MultiplyColumns(a, 0, b, 0, columns, 0, m, k, n, 0, n / 2);
        GemmKernel.MultiplyColumns(a, 0, b, 0, columns, 0, m, k, n, n / 2, n);
        OrtReference.AssertClose(expected, columns, "MultiplyColumns");
    }
}

/// <summary>A model's packed weight panels: only its weights, once each, within the budget.</summary>
public sealed class PackedWeightsTests
{
    [Fact]
    public void Weights_are_packed_once_and_only_within_the_budget()
    {
        var small = new Tensor([64, 48], ReferenceModels.Values(new Random(1), 64 * 48, 1));
        var side = (int)Math.Sqrt(PackedWeights.BudgetBytes / 4) + 24;
        var large = new Tensor([side, side], new float[side * side]);
        var activation = new Tensor([64, 48], new float[64 * 48]);
        var packed = new PackedWeights(new HashSet<Tensor>([small, large], ReferenceEqualityComparer.Instance));

        float[]? Panels(Tensor t) => packed.For(t, "gemm panels", GemmKernel.PrepackedLength(t.Shape[0], t.Shape[1]), () => GemmKernel.Prepack(t.Data, t.Shape[0], t.Shape[1]));
        var first = Panels(small);
        Assert.NotNull(first);
        Assert.Same(first, Panels(small));
        Assert.Equal(GemmKernel.Prepack(small.Data, 64, 48), first);
        Assert.Null(Panels(activation));
        Assert.Null(Panels(large));
        Assert.Equal(4L * 64 * 48, packed.Bytes);
    }
}
