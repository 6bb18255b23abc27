using System.Numerics.Tensors;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>LayerNormalization and BatchNormalization (inference).</summary>
[OperatorFamily]
internal static class Normalization
{
    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "LayerNormalization",

            // ONNX's since opset 17; ONNX Runtime's optimiser writes the same operator into the default
            // domain of older models, which ran before and keep running.
            Attributes = [AttributeDeclaration.Int("axis"), AttributeDeclaration.Float("epsilon"), AttributeDeclaration.Int("stash_type")],
            Inputs = new(2, 3),
            Outputs = new(1, 3),
            InputTypes = [ElementTypes.Float],
            Shape = LayerNormalizationShape,
            Run = LayerNormalization,
        };
        yield return new OperatorSchema
        {
            Name = "BatchNormalization",
            Attributes = [AttributeDeclaration.Float("epsilon"), AttributeDeclaration.Float("momentum"), AttributeDeclaration.Int("training_mode", 0, 0) with { Note = "training mode is not supported; export the model for inference" }],
            Inputs = new(5, 5),
            Outputs = new(1, 1),
            InputTypes = [ElementTypes.Float],
            Shape = BatchNormalizationShape,
            Run = BatchNormalization,
        };
    }

    /// <summary>The output keeps x's shape; the mean and inverse deviation keep the leading axes and set the normalised ones to 1. Scale and bias broadcast to the normalised axes.</summary>
    private static long[]?[] LayerNormalizationShape(ShapeContext c)
    {
        var x = c.In(0);
        if (x is null)
        {
            return [null, null, null];
        }

        var axis = OpContext.Axis(c.GetInt("axis", -1), x.Length);
        var normalized = x[axis..];
        foreach (var parameter in new[] { c.In(1), c.In(2) }.OfType<long[]>())
        {
            if (parameter.Length > normalized.Length || Dims.Broadcast(normalized, parameter).Length != normalized.Length
                || Dims.Broadcast(normalized, parameter).Where((d, i) => d >= 0 && normalized[i] >= 0 && d != normalized[i]).Any())
            {
                throw new ModelException($"scale and bias of shape {Dims.Describe(parameter)} do not fit the normalised axes {Dims.Describe(normalized)}.");
            }
        }

        long[] reduced = [.. x.Select((d, i) => i < axis ? d : 1)];
        return [x, reduced, reduced];
    }

    /// <summary>x's shape; scale, bias, mean and variance one value per channel.</summary>
    private static long[]?[] BatchNormalizationShape(ShapeContext c)
    {
        var x = c.In(0);
        if (x is { Length: < 2 })
        {
            throw new ModelException($"BatchNormalization needs [N, C, …]; the input has rank {x.Length}.");
        }

        for (var i = 1; i <= 4; i++)
        {
            if (c.In(i) is not { } p)
            {
                continue;
            }

            if (p.Length != 1)
            {
                throw new ModelException($"input {i} has shape {Dims.Describe(p)}; BatchNormalization takes one value per channel.");
            }

            if (x is not null)
            {
                Dims.Same(p[0], x[1], $"the channels and input {i}'s length");
            }
        }

        return [x];
    }

    private static Tensor[] LayerNormalization(OpContext c)
    {
        var x = c.Input(0);
        var axis = OpContext.Axis(c.GetInt("axis", -1), x.Rank);
        var epsilon = c.GetFloat("epsilon", 1e-5f);
        var rows = (int)Tensor.ElementCount(x.Shape.AsSpan(0, axis));
        var size = (int)Tensor.ElementCount(x.Shape.AsSpan(axis));
        int[] normalized = x.Shape[axis..];
        if (c.Gpu is { } gpu)
        {
            var (s, shift) = (c.Input(1), c.Optional(2) ?? new Tensor([size], new float[size]));
            return [gpu.LayerNorm(x, s.Length == size ? s : gpu.Broadcast(s, normalized), shift.Length == size ? shift : gpu.Broadcast(shift, normalized), size, epsilon)];
        }

        var scale = Stretch(c.Input(1), normalized);
        var bias = c.Optional(2) is { } b ? Stretch(b, normalized) : new float[size];
        var (data, y) = (x.Values, Buffers.Floats(x.Length));
        Chunks.For(rows * size, size, (start, count) =>
        {
            for (var at = start; at < start + count; at += size)
            {
                // Centre the row in the output first, so the variance is a vectorised sum of squares
                // (a scalar loop in double made LayerNorm cost as much as a small product).
                var row = data.AsSpan(at, size);
                var target = y.AsSpan(at, size);
                var mean = TensorPrimitives.Sum<float>(row) / size;
                TensorPrimitives.Subtract(row, mean, target);
                var variance = TensorPrimitives.SumOfSquares<float>(target) / size;
                var inverse = (float)(1 / Math.Sqrt(variance + epsilon));
                TensorPrimitives.Multiply(target, inverse, target);
                TensorPrimitives.MultiplyAdd(target, scale, bias, target);
            }
        });

        return [new Tensor(x.Shape, y)];
    }

    private static Tensor[] BatchNormalization(OpContext c)
    {
        // The declaration refused training mode and checked the rank and the parameters' lengths (NodeGuard).
        var x = c.Input(0);
        var epsilon = c.GetFloat("epsilon", 1e-5f);
        var (scale, bias, mean, variance) = (c.Input(1).Data, c.Input(2).Data, c.Input(3).Data, c.Input(4).Data);
        var channels = x.Shape[1];

        var inner = (int)Tensor.ElementCount(x.Shape.AsSpan(2));
        var (a, shift) = Affine(scale, bias, mean, variance, epsilon);
        if (c.Gpu is { } gpu)
        {
            return [gpu.ChannelAffine(x, a, shift, channels, inner)];
        }

        var y = Buffers.Floats(x.Length);
        for (var plane = 0; inner > 0 && plane < x.Length / inner; plane++)
        {
            var ch = plane % channels;
            var target = y.AsSpan(plane * inner, inner);
            TensorPrimitives.Multiply(x.Values.AsSpan(plane * inner, inner), a[ch], target);
            TensorPrimitives.Add(target, shift[ch], target);
        }

        return [new Tensor(x.Shape, y)];
    }

    /// <summary>
    /// Inference batch normalisation as a per-channel affine map, y = x · a + b, with
    /// a = scale / √(var + ε) and b = bias − mean · a (also what folding it into a Conv uses).
    /// </summary>
    public static (float[] A, float[] B) Affine(float[] scale, float[] bias, float[] mean, float[] variance, float epsilon)
    {
        var a = new float[scale.Length];
        var b = new float[scale.Length];
        for (var ch = 0; ch < a.Length; ch++)
        {
            a[ch] = scale[ch] / MathF.Sqrt(variance[ch] + epsilon);
            b[ch] = bias[ch] - (mean[ch] * a[ch]);
        }

        return (a, b);
    }

    /// <summary>A scale or bias broadcast to the normalised shape, flattened.</summary>
    private static float[] Stretch(Tensor t, int[] shape) => t.Gather(shape, Broadcasting.Indices(t.Shape, shape)).Data;
}
