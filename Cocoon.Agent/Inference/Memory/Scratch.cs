using System.Buffers;

namespace Cocoon.Agent.Inference.Memory;

/// <summary>
/// Scratch arrays for kernels (unfolded columns, padded images, packed panels, partial sums), shared
/// across runs and therefore across jobs: an array is wiped before it goes back, so one job's values never
/// wait in the pool for the next. Kernels must write what they read; tests fill rented arrays with
/// <see cref="Poison"/> to show any that do not.
/// </summary>
internal static class Scratch
{
    /// <summary>A value every rented array is filled with (tests only); null: arrays come as the pool has them (wiped ones, or new ones that are not guaranteed to be zeroed).</summary>
    internal static float? Poison { get; set; }

    public static float[] Rent(int length)
    {
        var array = ArrayPool<float>.Shared.Rent(length);
        if (Poison is { } value)
        {
            array.AsSpan().Fill(value);
        }

        return array;
    }

    public static void Return(float[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<float>.Shared.Return(array, clearArray: true);
        }
    }
}
