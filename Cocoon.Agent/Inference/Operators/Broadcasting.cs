namespace Cocoon.Agent.Inference.Operators;

/// <summary>NumPy broadcasting: shapes align at the right, and a dimension of 1 stretches to the other.</summary>
internal static class Broadcasting
{
    public static int[] Shape(params int[][] shapes)
    {
        var rank = shapes.Max(s => s.Length);
        var result = new int[rank];
        for (var d = 0; d < rank; d++)
        {
            var size = 1;
            foreach (var shape in shapes)
            {
                var dim = d - (rank - shape.Length) >= 0 ? shape[d - (rank - shape.Length)] : 1;
                if (dim != 1 && size != 1 && dim != size)
                {
                    throw new ModelException($"shapes {string.Join(" and ", shapes.Select(s => $"[{string.Join(", ", s)}]"))} do not broadcast.");
                }

                size = dim == 1 ? size : dim;
            }

            result[d] = size;
        }

        return result;
    }

    /// <summary>For every element of <paramref name="to"/>, the index of the element of a tensor shaped <paramref name="from"/> it reads.</summary>
    public static int[] Indices(int[] from, int[] to) => Shapes.Strided(to, Strides(from, to), 0);

    /// <summary>Per dimension of <paramref name="to"/>, how far a row-major tensor shaped <paramref name="from"/> (right-aligned) moves: 0 where it stretches.</summary>
    public static int[] Strides(int[] from, int[] to)
    {
        var strides = new int[to.Length];
        var stride = 1;
        for (var d = from.Length - 1; d >= 0; d--)
        {
            strides[d + (to.Length - from.Length)] = from[d] == 1 ? 0 : stride;
            stride *= from[d];
        }

        return strides;
    }

    /// <summary>Applies <paramref name="op"/> to every broadcast pair, into a new array.</summary>
    public static TOut[] Zip<TA, TB, TOut>(ReadOnlySpan<TA> a, int[] aShape, ReadOnlySpan<TB> b, int[] bShape, int[] shape, Func<TA, TB, TOut> op)
    {
        var result = new TOut[Tensor.CheckedCount(shape)];
        Zip(a, aShape, b, bShape, shape, result, op);
        return result;
    }

    /// <summary>Applies <paramref name="op"/> to every broadcast pair, into <paramref name="result"/>.</summary>
    public static void Zip<TA, TB, TOut>(ReadOnlySpan<TA> a, int[] aShape, ReadOnlySpan<TB> b, int[] bShape, int[] shape, Span<TOut> result, Func<TA, TB, TOut> op)
    {
        if (aShape.AsSpan().SequenceEqual(shape) && bShape.AsSpan().SequenceEqual(shape))
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = op(a[i], b[i]);
            }

            return;
        }

        var ia = Indices(aShape, shape);
        var ib = Indices(bShape, shape);
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = op(a[ia[i]], b[ib[i]]);
        }
    }
}
