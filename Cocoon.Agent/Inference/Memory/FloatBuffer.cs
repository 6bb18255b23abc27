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

    /// <summary>
    /// Element <paramref name="index"/>, counted from <see cref="Offset"/>. Checked against this buffer's
    /// own length, not the array's: a region of the arena must not reach into its neighbours' values.
    /// </summary>
    public ref float this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)Length)
            {
                ThrowOutside(index, 1);
            }

            return ref Array[Offset + index];
        }
    }

    /// <summary>Elements [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) as a span, within this buffer.</summary>
    public Span<float> AsSpan(int start, int count)
    {
        if ((uint)start > (uint)Length || (uint)count > (uint)(Length - start))
        {
            ThrowOutside(start, count);
        }

        return Array.AsSpan(Offset + start, count);
    }

    /// <summary>Elements from <paramref name="start"/> to the end as a span.</summary>
    public Span<float> AsSpan(int start) => AsSpan(start, Length - start);

    private void ThrowOutside(int start, int count) =>
        throw new ArgumentOutOfRangeException(nameof(start), $"elements [{start}, {(long)start + count}) lie outside a buffer of {Length}.");

    /// <summary>Whether this is a whole array of its own (not a region of an arena or of a larger array).</summary>
    public bool IsWholeArray => Arena is null && Offset == 0 && Length == Array.Length;
}
