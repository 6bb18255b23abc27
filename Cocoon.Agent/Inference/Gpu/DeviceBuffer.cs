using ILGPU;
using ILGPU.Runtime;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>
/// Float32 elements in an accelerator's memory; an empty tensor still gets one element so views stay
/// valid. Zeroed before it is freed: model inputs and activations are the developer's plaintext, and
/// freed device memory goes back to a pool the next allocation may read.
/// </summary>
internal sealed class DeviceBuffer : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _memory;

    public DeviceBuffer(Accelerator accelerator, int length)
    {
        _accelerator = accelerator;
        _memory = accelerator.Allocate1D<float>(Math.Max(length, 1));
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
        _accelerator.Synchronize();
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
            _memory.MemSetToZero();
            _accelerator.Synchronize();
            _memory.Dispose();
        }
    }
}
