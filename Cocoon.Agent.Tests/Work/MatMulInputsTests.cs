using Cocoon.Shared.Work;

namespace Cocoon.Agent.Tests.Work;

public sealed class MatMulInputsTests
{
    [Fact]
    public void The_same_seed_and_index_give_the_same_matrices()
    {
        var (a1, b1) = Generate(seed: 9, index: 3, n: 8);
        var (a2, b2) = Generate(seed: 9, index: 3, n: 8);
        Assert.Equal(a1, a2);
        Assert.Equal(b1, b2);
    }

    [Fact]
    public void Other_seeds_and_indices_give_other_matrices()
    {
        var (a, _) = Generate(9, 3, 8);
        Assert.NotEqual(a, Generate(9, 4, 8).A);
        Assert.NotEqual(a, Generate(10, 3, 8).A);
    }

    [Fact]
    public void Entries_are_integers_from_minus_8_to_8_and_use_the_whole_range()
    {
        var (a, b) = Generate(1, 0, 64);
        var all = a.Concat(b).ToList();
        Assert.All(all, v => Assert.True(v == MathF.Round(v) && v is >= -8 and <= 8, $"{v}"));
        Assert.Equal(17, all.Distinct().Count());
    }

    [Fact]
    public void Buffers_too_small_are_refused()
    {
        Assert.Throws<ArgumentException>(() => MatMulInputs.Fill(1, 0, 4, new float[15], new float[16]));
    }

    private static (float[] A, float[] B) Generate(long seed, long index, int n)
    {
        var a = new float[n * n];
        var b = new float[n * n];
        MatMulInputs.Fill(seed, index, n, a, b);
        return (a, b);
    }
}
