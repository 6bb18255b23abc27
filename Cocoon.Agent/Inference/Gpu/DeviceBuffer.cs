using ILGPU;
using ILGPU.Runtime;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>
/// Float32 elements in an accelerator's memory, taken from its <see cref="DevicePool"/>; an empty
/// tensor still gets one element so views stay valid. Zeroed when disposed, before the pool hands the
/// memory out again or frees it: model inputs and activations are the developer's plaintext.
/// </summary>
internal sealed class DeviceBuffer : IDisposable
{
    private readonly DevicePool _pool;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _memory;

    public DeviceBuffer(DevicePool pool, int length)
    {
        _pool = pool;
        _memory = pool.Rent(Math.Max(length, 1));
        Length = length;
    }

    public int Length { get; }

    public bool IsDisposed { get; private set; }

    public ArrayView<float> View => _memory.View.AsContiguous().SubView(0, Math.Max(Length, 1));

    public void Upload(float[] values)
    {
        if (values.Length > 0)
        {
            View.SubView(0, values.Length).CopyFromCPU(values);
        }
    }

    public float[] Download()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var values = new float[Length];
        _pool.Accelerator.Synchronize();
        if (Length > 0)
        {
            View.SubView(0, Length).CopyToCPU(values);
        }

        return values;
    }

    public void Dispose()
    {
        if (!IsDisposed)
        {
            IsDisposed = true;
            _pool.Return(_memory);
        }
    }
}

/// <summary>
/// An accelerator's freed buffers, kept by length for the next run to take. Allocating and freeing
/// device memory synchronises the whole device (cuMemFree waits for every kernel in flight), so a
/// model that allocated and freed each intermediate value stalled the stream once per value; the
/// same model run again asks for the same lengths. A returned buffer is zeroed on the stream at
/// once (ordered before any later use), and up to <see cref="Capacity"/> bytes are kept; beyond
/// that, and when the device is disposed, memory is zeroed and freed.
/// </summary>
internal sealed class DevicePool(Accelerator accelerator) : IDisposable
{
    private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _free = [];
    private readonly Lock _lock = new();
    private long _keptBytes;

    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>At most a quarter of the device's memory, and at most 2 GiB, is kept for reuse.</summary>
    public long Capacity { get; } = Math.Min(2L << 30, accelerator.MemorySize / 4);

    /// <summary>Bytes kept for reuse now.</summary>
    public long KeptBytes
    {
        get
        {
            lock (_lock)
            {
                return _keptBytes;
            }
        }
    }

    public MemoryBuffer1D<float, Stride1D.Dense> Rent(long length)
    {
        lock (_lock)
        {
            if (_free.TryGetValue(length, out var stack) && stack.TryPop(out var memory))
            {
                _keptBytes -= memory.LengthInBytes;
                return memory;
            }
        }

        return Accelerator.Allocate1D<float>(length);
    }

    public void Return(MemoryBuffer1D<float, Stride1D.Dense> memory)
    {
        memory.MemSetToZero();
        lock (_lock)
        {
            if (_keptBytes + memory.LengthInBytes <= Capacity)
            {
                if (!_free.TryGetValue(memory.Length, out var stack))
                {
                    _free[memory.Length] = stack = new Stack<MemoryBuffer1D<float, Stride1D.Dense>>();
                }

                stack.Push(memory);
                _keptBytes += memory.LengthInBytes;
                return;
            }
        }

        Accelerator.Synchronize();
        memory.Dispose();
    }

    /// <summary>Frees every kept buffer (each was zeroed when it was returned).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            Accelerator.Synchronize();
            foreach (var memory in _free.Values.SelectMany(s => s))
            {
                memory.Dispose();
            }

            _free.Clear();
            _keptBytes = 0;
        }
    }
}
