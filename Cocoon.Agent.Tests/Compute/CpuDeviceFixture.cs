using Cocoon.Agent.Compute;

namespace Cocoon.Agent.Tests.Compute;

/// <summary>One ILGPU CPU accelerator per test class: creating one and compiling its kernel takes a moment.</summary>
public sealed class CpuDeviceFixture : IDisposable
{
    public ComputeDevice Device { get; } = ComputeDevice.Open("cpu");

    public void Dispose() => Device.Dispose();
}
