namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Arithmetic on inferred shapes, for the operators' shape rules: a dimension ≥ 0 is a size, a negative
/// one a symbol (equal only to itself), <see cref="Unknown"/> a size no rule could determine.
/// </summary>
internal static class Dims
{
    /// <summary>A dimension no rule could determine.</summary>
    public const long Unknown = long.MinValue;

    /// <summary>Two dimensions that must be equal: the known one, or a conflict.</summary>
    public static long Same(long a, long b, string what)
    {
        if (a >= 0 && b >= 0 && a != b)
        {
            throw new ModelException($"{what} are {a} and {b}; they must be equal.");
        }

        return a >= 0 ? a : b >= 0 ? b : a == b ? a : Unknown;
    }

    /// <summary>NumPy broadcasting of two inferred shapes; a conflict between two known sizes is an error.</summary>
    public static long[] Broadcast(long[] a, long[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var shape = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            var x = d - (rank - a.Length) >= 0 ? a[d - (rank - a.Length)] : 1;
            var y = d - (rank - b.Length) >= 0 ? b[d - (rank - b.Length)] : 1;
            shape[d] = x == 1 ? y : y == 1 ? x : x == y ? x : x >= 0 && y >= 0
                ? throw new ModelException($"shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}] do not broadcast (dimension {d}: {x} and {y}).")
                : x >= 0 ? x : y >= 0 ? y : Unknown;
        }

        return shape;
    }

    /// <summary>Every input's shape broadcast together; null when any is unknown.</summary>
    public static long[]? BroadcastAll(IEnumerable<long[]?> shapes) =>
        shapes.Aggregate((long[]?)[], (shape, next) => shape is null || next is null ? null : Broadcast(shape, next));

    /// <summary>The number of elements: a size when all are known, a symbol when it is the only other factor (times 1s), else unknown.</summary>
    public static long Product(long[] dims)
    {
        var known = 1L;
        foreach (var d in dims.Where(d => d >= 0))
        {
            known = known > int.MaxValue || d > int.MaxValue ? long.MaxValue / 2 : known * d;
        }

        var others = dims.Where(d => d < 0).ToList();
        return others.Count == 0 ? known : others is [var symbol] && symbol != Unknown && known == 1 ? symbol : Unknown;
    }

    /// <summary>
    /// Element counts of two shapes compared where they can be: the same symbols on both sides cancel,
    /// leaving the sizes' products. Null when an unknown dimension or unmatched symbols remain.
    /// </summary>
    public static (long Left, long Right)? KnownFactors(long[] left, long[] right)
    {
        if (left.Contains(Unknown) || right.Contains(Unknown))
        {
            return null;
        }

        var symbols = left.Where(d => d < 0).Order().ToList();
        if (!symbols.SequenceEqual(right.Where(d => d < 0).Order()))
        {
            return null;
        }

        return (Product([.. left.Where(d => d >= 0)]), Product([.. right.Where(d => d >= 0)]));
    }

    /// <summary>The same dimensions with every one unknown (the rank is all a rule can tell).</summary>
    public static long[] UnknownLike(long[] shape) => [.. shape.Select(_ => Unknown)];

    /// <summary>A rank <paramref name="rank"/> that an input must have, when its shape is known.</summary>
    public static void Rank(long[]? shape, int rank, string what)
    {
        if (shape is not null && shape.Length != rank)
        {
            throw new ModelException($"{what} has rank {shape.Length}; it must have rank {rank}.");
        }
    }

    /// <summary>A shape as text: [1, 3, ?].</summary>
    public static string Describe(long[] shape) =>
        $"[{string.Join(", ", shape.Select(d => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?"))}]";
}
