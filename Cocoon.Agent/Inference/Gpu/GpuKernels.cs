namespace Cocoon.Agent.Inference.Gpu;

/// <summary>Element-wise functions of one float, chosen inside <see cref="GpuKernels.Unary"/> by code.</summary>
internal enum UnaryOp
{
    Relu,
    Sigmoid,
    Tanh,
    Exp,
    Log,
    Neg,
    Abs,
    Sqrt,
    Reciprocal,
    Erf,
    LeakyRelu,
    Elu,
    HardSigmoid,
    HardSwish,
    Gelu,
    GeluTanh,
    Clip,
    Selu,
    Softplus,
    Sign,
    Shrink,
    Mish,
    Celu,
    Floor,
    Ceil,
    Round,
    Sin,
    Cos,
}

/// <summary>Element-wise functions of two broadcast floats, chosen inside <see cref="GpuKernels.Binary"/> by code.</summary>
internal enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Min,
    Max,
    PRelu,
    Mod,
}

/// <summary>
/// The ONNX engine's ILGPU kernels. All but the tiled GEMM are implicitly grouped (one thread per
/// output element or row); the tiled GEMM, which GPUs run, is explicitly grouped and shares tiles
/// through shared memory. Each is pure: views and structs in, one view written. The same methods compile to PTX for CUDA, to
/// OpenCL C, and run on ILGPU's CPU accelerator in the tests. Math goes through MathF with ILGPU's
/// Algorithms library enabled, which maps it to each backend's intrinsics. The kernels live in one file
/// per operator family: <c>GpuKernels.Elementwise.cs</c>, <c>.Shapes.cs</c>, <c>.Gemm.cs</c>,
/// <c>.Spatial.cs</c> and <c>.Normalization.cs</c>.
/// </summary>
internal static partial class GpuKernels;
