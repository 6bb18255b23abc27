using System.Numerics.Tensors;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>MatMul (NumPy semantics: 1-D promotion, batch dimensions broadcast) and Gemm.</summary>
internal static class Linear
{
    public static void Register(Dictionary<string, Func<OpContext, Tensor[]>> ops)
    {
        ops["MatMul"] = c => [MatMul(c.Input(0), c.Input(1))];
        ops["Gemm"] = Gemm;
    }

    /// <summary>Floating-point operations of a MatMul or Gemm node producing <paramref name="output"/> with inner size <paramref name="k"/>.</summary>
    public static long Flops(Tensor output, int k) => 2L * output.Length * k;

    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Type != ElementType.Float32 || b.Type != ElementType.Float32 || a.Rank == 0 || b.Rank == 0)
        {
            throw new ModelException($"MatMul takes float32 tensors of rank 1 or more; got {a} and {b}.");
        }

        var a2 = a.Rank == 1 ? a.Reshaped([1, a.Shape[0]]) : a;
        var b2 = b.Rank == 1 ? b.Reshaped([b.Shape[0], 1]) : b;
        var (m, k) = (a2.Shape[^2], a2.Shape[^1]);
        var (kb, n) = (b2.Shape[^2], b2.Shape[^1]);
        if (k != kb)
        {
            throw new ModelException($"shapes {a} and {b} do not fit (inner dimensions {k} and {kb}).");
        }

        var batch = Broadcasting.Shape(a2.Shape[..^2], b2.Shape[..^2]);
        Tensor.CheckedCount([.. batch, m, n]);
        var batches = Tensor.CheckedCount(batch);
        var ia = Broadcasting.Indices(a2.Shape[..^2], batch);
        var ib = Broadcasting.Indices(b2.Shape[..^2], batch);
        var c = new float[batches * m * n];
        for (var i = 0; i < batches; i++)
        {
            GemmKernel.Multiply(a2.Data, ia[i] * m * k, b2.Data, ib[i] * k * n, c, i * m * n, m, k, n);
        }

        List<int> shape = [.. batch];
        if (a.Rank > 1)
        {
            shape.Add(m);
        }

        if (b.Rank > 1)
        {
            shape.Add(n);
        }

        return new Tensor([.. shape], c);
    }

    private static Tensor[] Gemm(OpContext c)
    {
        var (a, b) = (c.Input(0), c.Input(1));
        if (a.Rank != 2 || b.Rank != 2)
        {
            throw new ModelException($"Gemm takes two matrices; got {a} and {b}.");
        }

        if (c.GetInt("transA", 0) == 1)
        {
            a = Shapes.Transpose(a, [1, 0]);
        }

        if (c.GetInt("transB", 0) == 1)
        {
            b = Shapes.Transpose(b, [1, 0]);
        }

        var y = MatMul(a, b);
        var alpha = c.GetFloat("alpha", 1f);
        if (alpha != 1f)
        {
            TensorPrimitives.Multiply(y.Data, alpha, y.Data);
        }

        if (c.Optional(2) is not { } bias || c.GetFloat("beta", 1f) == 0f)
        {
            return [y];
        }

        var beta = c.GetFloat("beta", 1f);
        return [beta == 1f ? Elementwise.Add(y, bias) : Elementwise.Float(y, bias, (p, q) => p + (beta * q))];
    }
}
