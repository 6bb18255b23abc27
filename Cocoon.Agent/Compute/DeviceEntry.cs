using Cocoon.Shared.Agents;
using ILGPU.Runtime;

namespace Cocoon.Agent.Compute;

/// <summary>One device <paramref name="Choice"/> can open: an ILGPU device, or null for the CPU's SIMD kernels.</summary>
public sealed record DeviceEntry(string Choice, Device? Device, DeviceInfo Info);
