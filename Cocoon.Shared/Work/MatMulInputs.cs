namespace Cocoon.Shared.Work;

/// <summary>
/// Generates the inputs of a <see cref="MatMulSpec"/> deterministically from (seed, matrix index).
/// Entries are small integers in [-8, 8] stored as float32: every partial sum of a product stays an
/// exact integer below 2^24 for n ≤ 2^18, so the result is bit-identical on every device whatever the
/// summation order or FMA use, and its digest can be checked by anyone who can run the generator.
/// </summary>
public static class MatMulInputs
{
    /// <summary>Largest matrix size for which products are exact in float32.</summary>
    public const int MaxExactSize = 1 << 18;

    /// <summary>Fills <paramref name="a"/> and <paramref name="b"/> (n·n each) for one matrix index.</summary>
    public static void Fill(long seed, long matrixIndex, int n, Span<float> a, Span<float> b)
    {
        var count = checked(n * n);
        if (a.Length < count || b.Length < count)
        {
            throw new ArgumentException($"Buffers must hold {count} floats.");
        }

        var state = Mix((ulong)seed ^ Mix((ulong)matrixIndex + 0x9E3779B97F4A7C15UL));
        for (var i = 0; i < count; i++)
        {
            a[i] = NextSmallInt(ref state);
        }

        for (var i = 0; i < count; i++)
        {
            b[i] = NextSmallInt(ref state);
        }
    }

    private static float NextSmallInt(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return (int)(Mix(state) % 17) - 8;
    }

    // SplitMix64's finaliser: cheap, well mixed and identical in every language we port it to.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
