using ILGPU;

namespace Cocoon.Agent.Inference.Gpu;

/// <summary>Element-wise kernels: activations and functions of one float, and broadcast arithmetic of two.</summary>
internal static partial class GpuKernels
{
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, UnaryArguments f) => y[i] = Apply(f, x[i]);

    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int op, Dims6 shape, Dims6 aStrides, Dims6 bStrides)
    {
        var p = a[Locate(i, shape, aStrides, shape)];
        var q = b[Locate(i, shape, bStrides, shape)];
        y[i] = op switch
        {
            (int)BinaryOp.Add => p + q,
            (int)BinaryOp.Sub => p - q,
            (int)BinaryOp.Mul => p * q,
            (int)BinaryOp.Div => p / q,
            (int)BinaryOp.Pow => MathF.Pow(p, q),
            (int)BinaryOp.Min => p < q || float.IsNaN(p) ? p : q,
            (int)BinaryOp.PRelu => p < 0 ? p * q : p,
            (int)BinaryOp.Mod => p % q,
            _ => p > q || float.IsNaN(p) ? p : q,
        };
    }


    private static float Apply(UnaryArguments f, float v) => f.Op switch
    {
        (int)UnaryOp.Relu => v > 0 ? v : 0f,
        (int)UnaryOp.Sigmoid => 1f / (1f + MathF.Exp(-v)),
        (int)UnaryOp.Tanh => MathF.Tanh(v),
        (int)UnaryOp.Exp => MathF.Exp(v),
        (int)UnaryOp.Log => MathF.Log(v),
        (int)UnaryOp.Neg => -v,
        (int)UnaryOp.Abs => MathF.Abs(v),
        (int)UnaryOp.Sqrt => MathF.Sqrt(v),
        (int)UnaryOp.Reciprocal => 1f / v,
        (int)UnaryOp.Erf => Erf(v),
        (int)UnaryOp.LeakyRelu => v >= 0 ? v : f.P * v,
        (int)UnaryOp.Elu => v >= 0 ? v : f.P * (MathF.Exp(v) - 1f),
        (int)UnaryOp.HardSigmoid => Clamp((f.P * v) + f.Q, 0f, 1f),
        (int)UnaryOp.HardSwish => v * Clamp((v / 6f) + 0.5f, 0f, 1f),
        (int)UnaryOp.Gelu => 0.5f * v * (1f + Erf(v * 0.70710678118f)),
        (int)UnaryOp.GeluTanh => 0.5f * v * (1f + MathF.Tanh(0.7978845608f * (v + (0.044715f * v * v * v)))),
        (int)UnaryOp.Selu => f.Q * (v > 0 ? v : f.P * (MathF.Exp(v) - 1f)),
        (int)UnaryOp.Softplus => v > 0 ? v + MathF.Log(1f + MathF.Exp(-v)) : MathF.Log(1f + MathF.Exp(v)),
        (int)UnaryOp.Sign => v > 0 ? 1f : v < 0 ? -1f : v,
        (int)UnaryOp.Shrink => v < -f.P ? v + f.Q : v > f.P ? v - f.Q : 0f,
        (int)UnaryOp.Mish => v * MathF.Tanh(v > 0 ? v + MathF.Log(1f + MathF.Exp(-v)) : MathF.Log(1f + MathF.Exp(v))),
        (int)UnaryOp.Floor => MathF.Floor(v),
        (int)UnaryOp.Ceil => MathF.Ceiling(v),
        (int)UnaryOp.Round => MathF.Round(v),
        (int)UnaryOp.Sin => MathF.Sin(v),
        (int)UnaryOp.Cos => MathF.Cos(v),
        (int)UnaryOp.Celu => MathF.Max(0f, v) + MathF.Min(0f, f.P * (MathF.Exp(v / f.P) - 1f)),
        _ => Clamp(v, f.P, f.Q),
    };

    /// <summary>
    /// min(max(v, …)) in the CPU operators' order (the upper bound first, so min wins when min &gt; max),
    /// without the range check Math.Clamp throws from (kernels cannot throw); NaN passes through.
    /// </summary>
    private static float Clamp(float v, float min, float max)
    {
        var upper = v > max ? max : v;
        return upper < min ? min : upper;
    }

    /// <summary>erf to about 1.5e-7 (Abramowitz and Stegun 7.1.26), as the CPU operator computes it.</summary>
    private static float Erf(float x)
    {
        var t = 1f / (1f + (0.3275911f * MathF.Abs(x)));
        var polynomial = ((((((((1.061405429f * t) - 1.453152027f) * t) + 1.421413741f) * t) - 0.284496736f) * t) + 0.254829592f) * t;
        var y = 1f - (polynomial * MathF.Exp(-x * x));
        return x >= 0 ? y : -y;
    }
}
