namespace Cocoon.Shared.Agents;

/// <summary>The kind of accelerator a device is; agents prefer CUDA, then OpenCL, then CPU.</summary>
public enum DeviceKind
{
    /// <summary>ILGPU's CPU accelerator (each GPU thread emulated by an OS thread).</summary>
    Cpu = 0,

    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda = 1,

    /// <summary>A GPU through OpenCL.</summary>
    OpenCL = 2,
}
