using System.Runtime.InteropServices;

namespace Cocoon.Agent.Inference.Memory;

/// <summary>
/// One block of memory that a model's planned values live in, each at the offset its
/// <see cref="MemoryPlan"/> gives it. Allocated once on the pinned object heap, so it never moves and
/// its regions can start on 64-byte boundaries (a cache line, one AVX-512 vector): every planned value
/// starts aligned, which arrays from the garbage collector do not.
/// </summary>
internal sealed class MemoryArena
{
    /// <summary>Floats in 64 bytes: planned offsets and lengths are rounded to multiples of it.</summary>
    public const int Alignment = 16;

    private long _copies;

    public MemoryArena(int length)
    {
        Length = length;
        Array = GC.AllocateUninitializedArray<float>(length + Alignment, pinned: true);
        var handle = GCHandle.Alloc(Array, GCHandleType.Pinned);
        try
        {
            // The array lives on the pinned heap: its address is fixed for good once read.
            var misaligned = (int)(handle.AddrOfPinnedObject() % (Alignment * sizeof(float)));
            Base = misaligned == 0 ? 0 : Alignment - (misaligned / sizeof(float));
        }
        finally
        {
            handle.Free();
        }
    }

    public float[] Array { get; }

    /// <summary>Index of the first 64-byte aligned element: offset 0 of the plan.</summary>
    public int Base { get; }

    /// <summary>Floats the plans may place values in.</summary>
    public int Length { get; }

    /// <summary>Times an operator read a planned value as an array of its own, copying it out (each is a kernel not reading in place).</summary>
    public long Copies => Interlocked.Read(ref _copies);

    public void CountCopy() => Interlocked.Increment(ref _copies);

    /// <summary><paramref name="length"/> floats at the plan's <paramref name="offset"/>.</summary>
    public FloatBuffer Region(int offset, int length) => new(Array, Base + offset, length, this);

    /// <summary>The plan's offset of a region of this arena.</summary>
    public int OffsetOf(FloatBuffer region) => region.Offset - Base;
}
