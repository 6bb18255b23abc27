using System.Runtime.CompilerServices;

namespace Cocoon.Agent.Inference.Memory;

/// <summary>
/// Where a float tensor's elements lie: <see cref="Length"/> floats of <see cref="Array"/> from
/// <see cref="Offset"/>. A whole array for inputs, weights and unplanned values; a region of the run's
/// <see cref="MemoryArena"/> for values the memory plan placed there (<see cref="Arena"/> set). CPU
/// kernels take (array, offset) pairs or spans, so a planned value costs them nothing over an array.
/// </summary>
internal readonly record struct FloatBuffer(float[] Array, int Offset, int Length, MemoryArena? Arena = null)
{
    /// <summary>A whole array.</summary>
    public static FloatBuffer Of(float[] array) => new(array, 0, array.Length);

    /// <summary>The elements as a span.</summary>
    public Span<float> Span => Array.AsSpan(Offset, Length);

    /// <summary>Element <paramref name="index"/>, counted from <see cref="Offset"/>.</summary>
    public ref float this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Array[Offset + index];
    }

    /// <summary>Elements [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) as a span.</summary>
    public Span<float> AsSpan(int start, int count) => Array.AsSpan(Offset + start, count);

    /// <summary>Elements from <paramref name="start"/> to the end as a span.</summary>
    public Span<float> AsSpan(int start) => Array.AsSpan(Offset + start, Length - start);

    /// <summary>Whether this is a whole array of its own (not a region of an arena or of a larger array).</summary>
    public bool IsWholeArray => Arena is null && Offset == 0 && Length == Array.Length;
}
