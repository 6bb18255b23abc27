using System.Numerics.Tensors;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>MatMul (NumPy semantics: 1-D promotion, batch dimensions broadcast) and Gemm.</summary>
[OperatorFamily]
internal static class Linear
{
    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "MatMul",
            Attributes = [FusionAttributes.Activation, FusionAttributes.Scale],
            Inputs = new(2, 2),
            InputTypes = [ElementTypes.Float],
            Shape = MatMulShape,
            Flops = static (c, results) => Flops(results[0], c.Input(0).Shape[^1]),
            Run = FusedMatMul,
            FusedActivations = [Activation.Relu, Activation.Gelu],
        };
        yield return new OperatorSchema
        {
            Name = "Gemm",
            Attributes = [AttributeDeclaration.Float("alpha"), AttributeDeclaration.Float("beta"), AttributeDeclaration.Int("transA", 0, 1), AttributeDeclaration.Int("transB", 0, 1), FusionAttributes.Activation],
            Inputs = new(2, 3),
            InputTypes = [ElementTypes.Float],
            Shape = GemmShape,
            Flops = static (c, results) => Flops(results[0], c.GetInt("transA", 0) == 1 ? c.Input(0).Shape[0] : c.Input(0).Shape[^1]),
            Run = Gemm,
            FusedActivations = [Activation.Relu, Activation.Gelu],
        };
    }

    /// <summary>
    /// NumPy's matmul shape (1-D operands promoted and dropped again, batch dimensions broadcast), with
    /// what fusion folded in: a [1, n] bias makes a vector's product [1, n], and a residual broadcasts with the product.
    /// </summary>
    private static long[]?[] MatMulShape(ShapeContext c)
    {
        var (a, b) = (c.In(0), c.In(1));
        if (a is null || b is null)
        {
            return [null];
        }

        if (a.Length == 0 || b.Length == 0)
        {
            throw new ModelException("MatMul takes tensors of rank 1 or more.");
        }

        var a2 = a.Length == 1 ? [1, a[0]] : a;
        var b2 = b.Length == 1 ? [b[0], 1] : b;
        Dims.Same(a2[^1], b2[^2], "the inner dimensions");
        List<long> shape = [.. Dims.Broadcast(a2[..^2], b2[..^2])];
        if (a.Length > 1)
        {
            shape.Add(a2[^2]);
        }

        if (b.Length > 1)
        {
            shape.Add(b2[^1]);
        }

        long[] product = [.. shape];
        if (c.In(2) is { } bias)
        {
            Dims.Same(bias[^1], product.Length > 0 ? product[^1] : 1, "the bias and the product's columns");
            product = product.Length == 1 && bias.Length == 2 ? [1, .. product] : product;
        }

        return [c.In(3) is { } residual ? Dims.Broadcast(product, residual) : product];
    }

    private static long[]?[] GemmShape(ShapeContext c)
    {
        var (a, b) = (c.In(0), c.In(1));
        if (a is null || b is null)
        {
            return [null];
        }

        if (a.Length != 2 || b.Length != 2)
        {
            throw new ModelException("Gemm takes two matrices.");
        }

        var (transA, transB) = (c.GetInt("transA", 0) == 1, c.GetInt("transB", 0) == 1);
        Dims.Same(transA ? a[0] : a[1], transB ? b[1] : b[0], "the inner dimensions");
        long[] product = [transA ? a[1] : a[0], transB ? b[0] : b[1]];
        if (c.In(2) is { } bias && Dims.Broadcast(product, bias) is var spread && (spread.Length != 2 || spread.Where((d, i) => d >= 0 && product[i] >= 0 && d != product[i]).Any()))
        {
            throw new ModelException($"C of shape {Dims.Describe(bias)} does not broadcast to the product's {Dims.Describe(product)}.");
        }

        return [product];
    }

    /// <summary>Floating-point operations of a MatMul or Gemm node producing <paramref name="output"/> with inner size <paramref name="k"/>.</summary>
    public static long Flops(Tensor output, int k) => 2L * output.Length * k;

    /// <summary>
    /// A MatMul node, with what load-time fusion folded into it (<see cref="GraphFusion"/>): a bias row
    /// (input 2), a scale, a residual added to the product (input 3) and an activation.
    /// </summary>
    private static Tensor[] FusedMatMul(OpContext c)
    {
        var (a, b, bias, residual) = (c.Input(0), c.Input(1), c.Optional(2), c.Optional(3));
        var scale = c.GetFloat(GraphFusion.Scale, 1f);
        if (residual is null)
        {
            var y = MatMul(c, a, b, bias, c.FusedActivation, scale);

            // A fused [1, n] bias on a vector's product: the Add it replaced gave [1, n].
            return [bias is { Rank: 2 } && y.Rank == 1 ? y.Reshaped([1, y.Length]) : y];
        }

        // The residual is added as the product is written when it has the product's own shape (the
        // skip connection of a transformer block); any other shape broadcasts in an Add of its own.
        if (c.Gpu is null && residual.Type == ElementType.Float32 && residual.Shape.AsSpan().SequenceEqual(OutputShape(a, b, bias)))
        {
            return [MatMul(c, a, b, bias, c.FusedActivation, scale, residual)];
        }

        var sum = Elementwise.Float(c, MatMul(c, a, b, bias, Activation.None, scale), residual, BinaryOp.Add, static (p, q) => p + q);
        if (c.Gpu is { } gpu)
        {
            return [c.Activate(gpu, sum)];
        }

        new Epilogue(Activation: c.FusedActivation).Finish(sum.Values);
        return [sum];
    }

    /// <summary>The shape a MatMul of <paramref name="a"/> and <paramref name="b"/> gives, with a fused [1, n] bias's promotion.</summary>
    private static int[] OutputShape(Tensor a, Tensor b, Tensor? bias)
    {
        var shape = ProductShape(a, b);
        return bias is { Rank: 2 } && shape.Length == 1 ? [1, .. shape] : shape;
    }

    /// <summary>
    /// NumPy's matmul shape: the broadcast batch dimensions, then m unless A is a vector and n unless
    /// B is one. The inner dimensions are not checked here.
    /// </summary>
    private static int[] ProductShape(Tensor a, Tensor b)
    {
        List<int> shape = [.. Broadcasting.Shape(a.Rank > 2 ? a.Shape[..^2] : [], b.Rank > 2 ? b.Shape[..^2] : [])];
        if (a.Rank > 1)
        {
            shape.Add(a.Shape[^2]);
        }

        if (b.Rank > 1)
        {
            shape.Add(b.Shape[^1]);
        }

        return [.. shape];
    }

    /// <param name="bias">
    /// A bias row of length n added to every row of the product, only where load-time fusion folded a
    /// following Add into the node (<see cref="GraphFusion"/>; ONNX's MatMul has two inputs).
    /// </param>
    /// <param name="activation">An activation fusion folded into the node, applied as the product is written.</param>
    /// <param name="scale">A factor for the product (a fused Mul or Div by a constant; only without a bias).</param>
    /// <param name="residual">A tensor of the output's shape added to it (a fused residual Add; CPU only).</param>
    public static Tensor MatMul(OpContext? context, Tensor a, Tensor b, Tensor? bias = null, Activation activation = Activation.None, float scale = 1f, Tensor? residual = null)
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

        if (bias is not null && (bias.Type != ElementType.Float32 || bias.Length != n))
        {
            throw new ModelException($"the fused bias {bias} is not a row of {n}.");
        }

        var batch = Broadcasting.Shape(a2.Shape[..^2], b2.Shape[..^2]);
        Tensor.CheckedCount([.. batch, m, n]);
        var shape = ProductShape(a, b);

        if (context?.Gpu is { } gpu && GpuRun.Fits(batch))
        {
            return OpContext.Activate(gpu, gpu.Gemm(a2, b2, bias, shape, new GemmArguments
            {
                M = m,
                N = n,
                K = k,
                ARow = k,
                ACol = 1,
                BRow = n,
                BCol = 1,
                Alpha = scale,
                HasBias = bias is null ? 0 : 1,
                BiasCol = 1,
                Beta = 1f,
                Batch = Dims6.From(batch, 1),
                ABatch = Dims6.From([.. Broadcasting.Strides(a2.Shape[..^2], batch).Select(s => s * m * k)], 0),
                BBatch = Dims6.From([.. Broadcasting.Strides(b2.Shape[..^2], batch).Select(s => s * k * n)], 0),
            }), activation);
        }

        var batches = Tensor.CheckedCount(batch);
        var c = Buffers.Overwritten(batches * m * n);
        var (aData, bData) = (a2.Values, b2.Values);
        var (biasData, residualData) = (bias?.Values, residual?.Values);
        var epilogue = new Epilogue(
            ColumnBias: biasData?.Array, ColumnBiasAt: biasData?.Offset ?? 0, Activation: activation,
            Residual: residualData?.Array, ResidualShift: (residualData?.Offset ?? 0) - c.Offset, Scale: scale);
        if (b2.Rank == 2 && a2.Shape[..^2].AsSpan().SequenceEqual(batch))
        {
            // One weight matrix for every batch entry (a linear layer over [batch, seq, features]):
            // the batch folds into the rows of a single product.
            // Panels help only the 4-row kernel; a batch of fewer rows streams B as it lies.
            var packed = batches * m >= GemmKernel.Rows ? context?.PackedWeight(b, "gemm panels", GemmKernel.PrepackedLength(k, n), () => GemmKernel.Prepack(b2.Data, k, n)) : null;
            GemmKernel.Multiply(aData.Array, aData.Offset, bData.Array, bData.Offset, c.Array, c.Offset, batches * m, k, n, epilogue: epilogue, packedB: packed);
            return new Tensor(shape, c);
        }

        var ia = Broadcasting.Indices(a2.Shape[..^2], batch);
        var ib = Broadcasting.Indices(b2.Shape[..^2], batch);

        // Many small products (attention heads): one core per product rather than each product split.
        var product = (long)m * k * n;
        if (batches > 1 && product < GemmKernel.PerCoreProduct && product * batches >= GemmKernel.ParallelThreshold)
        {
            Workers.For(batches, i => GemmKernel.Multiply(aData.Array, aData.Offset + (ia[i] * m * k), bData.Array, bData.Offset + (ib[i] * k * n), c.Array, c.Offset + (i * m * n), m, k, n, parallel: false, epilogue));
        }
        else
        {
            for (var i = 0; i < batches; i++)
            {
                GemmKernel.Multiply(aData.Array, aData.Offset + (ia[i] * m * k), bData.Array, bData.Offset + (ib[i] * k * n), c.Array, c.Offset + (i * m * n), m, k, n, epilogue: epilogue);
            }
        }

        return new Tensor(shape, c);
    }

    private static Tensor[] Gemm(OpContext c)
    {
        var (a, b) = (c.Input(0), c.Input(1));
        if (a.Rank != 2 || b.Rank != 2)
        {
            throw new ModelException($"Gemm takes two matrices; got {a} and {b}.");
        }

        var (transA, transB) = (c.GetInt("transA", 0) == 1, c.GetInt("transB", 0) == 1);
        if (c.Gpu is { } gpu)
        {
            return [c.Activate(gpu, GemmOnGpu(c, gpu, a, b, transA, transB))];
        }

        if (transA)
        {
            a = Shapes.Transpose(c, a, [1, 0]);
        }

        if (transB)
        {
            b = Shapes.Transpose(c, b, [1, 0]);
        }

        var (alpha, beta, bias, n) = (c.GetFloat("alpha", 1f), c.GetFloat("beta", 1f), c.Optional(2), b.Shape[1]);
        if (bias is not null && beta == 0f)
        {
            bias = null;
        }

        var activation = c.FusedActivation;
        if (alpha == 1f && (bias is null || (beta == 1f && bias.Type == ElementType.Float32 && bias.Length == n && (bias.Rank == 1 || (bias.Rank == 2 && bias.Shape[0] == 1)))))
        {
            // The usual linear layer: the bias row and the activation are written with the product.
            return [MatMul(c, a, b, bias, activation)];
        }

        var y = MatMul(c, a, b);
        if (alpha != 1f)
        {
            TensorPrimitives.Multiply(y.Values.Span, alpha, y.Values.Span);
        }

        if (bias is not null)
        {
            // Any other bias shape, broadcast and scaled by beta.
            var scaled = beta == 1f ? bias : new Tensor(bias.Shape, [.. bias.Data.Select(v => beta * v)]);
            y = Elementwise.Add(y, scaled);
        }

        new Epilogue(Activation: activation).Finish(y.Values);
        return [y];
    }

    /// <summary>Gemm as one kernel: the transposes become strides, and alpha, beta and the broadcast bias are applied as each element is written.</summary>
    private static Tensor GemmOnGpu(OpContext c, GpuRun gpu, Tensor a, Tensor b, bool transA, bool transB)
    {
        var (m, k) = transA ? (a.Shape[1], a.Shape[0]) : (a.Shape[0], a.Shape[1]);
        var (kb, n) = transB ? (b.Shape[1], b.Shape[0]) : (b.Shape[0], b.Shape[1]);
        if (k != kb)
        {
            throw new ModelException($"shapes {a} and {b} do not fit (inner dimensions {k} and {kb}).");
        }

        var beta = c.GetFloat("beta", 1f);
        var bias = c.Optional(2) is { } t && beta != 0f ? t : null;
        var biasStrides = new int[2];
        if (bias is not null)
        {
            if (bias.Rank > 2 || !Broadcasting.Shape(bias.Shape, [m, n]).AsSpan().SequenceEqual([m, n]))
            {
                throw new ModelException($"bias {bias} does not broadcast to [{m}, {n}].");
            }

            biasStrides = Broadcasting.Strides(bias.Shape, [m, n]);
        }

        return gpu.Gemm(a, b, bias, [m, n], new GemmArguments
        {
            M = m,
            N = n,
            K = k,
            ARow = transA ? 1 : k,
            ACol = transA ? m : 1,
            BRow = transB ? 1 : n,
            BCol = transB ? k : 1,
            BiasRow = biasStrides[0],
            BiasCol = biasStrides[1],
            HasBias = bias is null ? 0 : 1,
            Alpha = c.GetFloat("alpha", 1f),
            Beta = beta,
            Batch = Dims6.From([], 1),
        });
    }
}
