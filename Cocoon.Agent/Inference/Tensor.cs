namespace Cocoon.Agent.Inference;

/// <summary>A dense float32 tensor in row-major order.</summary>
public sealed class Tensor
{
    public Tensor(int[] shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (ElementCount(shape) != data.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {ElementCount(shape)} elements, not {data.Length}.");
        }

        Shape = shape;
        Data = data;
    }

    public int[] Shape { get; }

    public float[] Data { get; }

    public int Rank => Shape.Length;

    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }

        return count;
    }

    public override string ToString() => $"[{string.Join(", ", Shape)}]";
}
