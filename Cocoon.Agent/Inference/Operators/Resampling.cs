using Cocoon.Agent.Inference.Memory;
namespace Cocoon.Agent.Inference.Operators;

/// <summary>Pad (constant, reflect, edge) and Resize (nearest, linear), in the forms opsets 9 to 21 give them.</summary>
[OperatorFamily]
internal static class Resampling
{
    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "Pad",
            Attributes = [AttributeDeclaration.String("mode", "constant", "reflect", "edge", "wrap"), AttributeDeclaration.Ints("pads"), AttributeDeclaration.Ints("paddings"), AttributeDeclaration.Float("value")],
            Inputs = new(1, 4),
            InputTypes = [ElementTypes.Any, ElementTypes.Integer, ElementTypes.Any, ElementTypes.Integer],
            Shape = PadShape,
            Run = Pad,
        };
        yield return new OperatorSchema
        {
            Name = "Resize",
            SinceOpset = 10,
            Attributes =
            [
                AttributeDeclaration.Int("antialias", 0, 0) with { Note = "Resize with antialias is not supported" }, AttributeDeclaration.Ints("axes"),
                AttributeDeclaration.String("coordinate_transformation_mode", "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"),
                AttributeDeclaration.Float("cubic_coeff_a"), AttributeDeclaration.Int("exclude_outside", 0, 1), AttributeDeclaration.Float("extrapolation_value"),
                AttributeDeclaration.String("keep_aspect_ratio_policy", "stretch"), AttributeDeclaration.String("mode", "nearest", "linear"),
                AttributeDeclaration.String("nearest_mode", "round_prefer_floor", "round_prefer_ceil", "floor", "ceil"),
            ],
            Inputs = new(1, 4),
            InputTypes = [ElementTypes.Float, ElementTypes.Float, ElementTypes.Float, ElementTypes.Integer],
            Shape = c => [ResizedShape(c)],
            Run = Resize,
        };
    }

    /// <summary>Each padded axis grows by its two pads (negative pads crop, never below zero).</summary>
    private static long[]?[] PadShape(ShapeContext c)
    {
        var x = c.In(0);
        var pads = c.Opset >= 11 ? c.Longs(1) : c.GetInts("pads") ?? c.GetInts("paddings");
        if (x is null)
        {
            return [null];
        }

        if (c.Opset < 18 && c.Present(3))
        {
            throw new ModelException("Pad takes an axes input from opset 18 on.");
        }

        var axes = c.Opset >= 18 && c.Longs(3) is { } given ? given.Select(a => OpContext.Axis(a, x.Length)).ToArray() : [.. Enumerable.Range(0, x.Length)];
        if (axes.Distinct().Count() != axes.Length)
        {
            throw new ModelException("axes repeats an axis.");
        }

        if (c.Opset >= 18 && c.Present(3) && c.Longs(3) is null)
        {
            return [Dims.UnknownLike(x)];
        }

        if (pads is null)
        {
            return c.Opset >= 11 ? [Dims.UnknownLike(x)] : throw new ModelException("pads is required.");
        }

        if (pads.Length != 2 * axes.Length)
        {
            throw new ModelException($"pads has {pads.Length} values; {2 * axes.Length} are needed.");
        }

        var shape = (long[])x.Clone();
        for (var i = 0; i < axes.Length; i++)
        {
            var d = axes[i];
            if (x[d] >= 0)
            {
                shape[d] = x[d] + pads[i] + pads[i + axes.Length];
                if (shape[d] < 0 || Math.Abs(pads[i]) > int.MaxValue || Math.Abs(pads[i + axes.Length]) > int.MaxValue)
                {
                    throw new ModelException($"pads [{string.Join(", ", pads)}] do not fit an axis of {x[d]}.");
                }
            }
            else
            {
                shape[d] = Dims.Unknown;
            }
        }

        return [shape];
    }

    /// <summary>The resized shape: sizes as given, or each axis times its scale, rounded down; exactly one of the two.</summary>
    private static long[]? ResizedShape(ShapeContext c)
    {
        var x = c.In(0);
        if (x is null)
        {
            return null;
        }

        var legacy = c.Opset < 11;
        var (scalesAt, sizesAt) = legacy ? (1, -1) : (2, 3);
        var scales = c.Optional(scalesAt) is { Length: > 0 } s ? s : null;
        var sizes = sizesAt > 0 && c.Optional(sizesAt) is { Length: > 0 } z ? z.AsLongs() : null;
        var axes = c.Axes("axes", x.Length) ?? [.. Enumerable.Range(0, x.Length)];
        if (axes.Distinct().Count() != axes.Length)
        {
            throw new ModelException("axes repeats an axis.");
        }

        if (scales is null && sizes is null)
        {
            var fedLater = c.Present(scalesAt) || (sizesAt > 0 && c.Present(sizesAt));
            return fedLater ? Dims.UnknownLike(x) : throw new ModelException("give exactly one of scales and sizes.");
        }

        if (scales is not null && sizes is not null)
        {
            throw new ModelException("give exactly one of scales and sizes.");
        }

        var count = scales?.Length ?? sizes!.Length;
        if (count != axes.Length)
        {
            throw new ModelException($"{(scales is null ? "sizes" : "scales")} has {count} values for {axes.Length} axes.");
        }

        var shape = (long[])x.Clone();
        for (var i = 0; i < axes.Length; i++)
        {
            var d = axes[i];
            if (sizes is not null)
            {
                shape[d] = sizes[i] is >= 0 and <= int.MaxValue ? sizes[i] : throw new ModelException($"size {sizes[i]} is impossible.");
                continue;
            }

            var scale = scales!.Data[i];
            if (!float.IsFinite(scale) || scale <= 0)
            {
                throw new ModelException($"scale {scale} is not a positive number.");
            }

            var size = x[d] >= 0 ? Math.Floor(x[d] * scale) : double.NaN;
            shape[d] = double.IsNaN(size) ? Dims.Unknown : size <= int.MaxValue ? (long)size : throw new ModelException($"scale {scale} makes an axis of {size} elements.");
        }

        return shape;
    }

    private static Tensor[] Pad(OpContext c)
    {
        var x = c.Input(0);
        var mode = c.GetString("mode", "constant");
        long[] pads;
        Tensor? constant;
        var axes = Enumerable.Range(0, x.Rank).ToArray();
        if (c.Opset >= 11)
        {
            pads = c.Input(1).AsLongs();
            constant = c.Optional(2);
            if (c.Opset >= 18 && c.Optional(3) is { } axesInput)
            {
                axes = [.. axesInput.AsLongs().Select(a => OpContext.Axis(a, x.Rank))];
            }
        }
        else
        {
            pads = c.GetInts("pads") ?? throw new ModelException("pads is required.");
            constant = Tensor.Scalar(c.GetFloat("value", 0f));
        }

        if (pads.Length != 2 * axes.Length)
        {
            throw new ModelException($"pads has {pads.Length} values; {2 * axes.Length} are needed.");
        }

        var begin = new int[x.Rank];
        var end = new int[x.Rank];
        for (var i = 0; i < axes.Length; i++)
        {
            (begin[axes[i]], end[axes[i]]) = ((int)pads[i], (int)pads[i + axes.Length]);
        }

        var shape = x.Shape.Select((d, i) => d + begin[i] + end[i]).ToArray();
        if (shape.Any(d => d < 0))
        {
            throw new ModelException($"pads [{string.Join(", ", pads)}] cut more than {x} holds.");
        }

        if (mode != "constant" && x.Shape.Where((d, i) => begin[i] > 0 || end[i] > 0).Any(d => d == 0))
        {
            throw new ModelException($"{mode} padding needs a non-empty axis to copy from.");
        }

        var fill = constant is null ? Tensor.Scalar(0f) : constant.Type == x.Type ? constant : Elementwise.Cast(constant, x.Type);
        if (c.Gpu is { } gpu && x.Type == ElementType.Float32 && Gpu.GpuRun.Fits(shape))
        {
            var code = mode switch
            {
                "constant" => 0,
                "reflect" => 1,
                "edge" => 2,
                "wrap" => 3,
                _ => throw new ModelException($"Pad mode {mode} is not one of constant, reflect, edge, wrap."),
            };
            return [gpu.Pad(x, shape, begin, code, fill.Length > 0 ? fill.Data[0] : 0f)];
        }

        // Index count stands for "the constant": gathered from the input extended by one element.
        var extended = Tensor.Join(x.Type, [x.Length + 1], [(x, 0, x.Length), (fill, 0, 1)]);
        var outside = x.Length;
        return [extended.Gather(shape, Shapes.Map(shape, index =>
        {
            var source = new int[x.Rank];
            for (var d = 0; d < x.Rank; d++)
            {
                var i = index[d] - begin[d];
                var n = x.Shape[d];
                if (i >= 0 && i < n)
                {
                    source[d] = i;
                    continue;
                }

                switch (mode)
                {
                    case "constant":
                        return outside;
                    case "edge":
                        source[d] = Math.Clamp(i, 0, n - 1);
                        break;
                    case "reflect":
                        var period = Math.Max(2 * (n - 1), 1);
                        var r = ((i % period) + period) % period;
                        source[d] = n == 1 ? 0 : r < n ? r : period - r;
                        break;
                    case "wrap":
                        source[d] = ((i % n) + n) % n;
                        break;
                    default:
                        throw new ModelException($"Pad mode {mode} is not one of constant, reflect, edge, wrap.");
                }
            }

            return Shapes.Offset(x.Shape, source);
        }))];
    }

    private static Tensor[] Resize(OpContext c)
    {
        var x = c.Input(0);
        var mode = c.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear"))
        {
            throw new ModelException($"Resize mode {mode} is not supported (nearest and linear are).");
        }

        if (c.GetInt("antialias", 0) != 0)
        {
            throw new ModelException("Resize with antialias is not supported.");
        }

        // Opset 10 has (X, scales) and always maps asymmetrically, rounding down for nearest.
        var legacy = c.Opset < 11;
        var transform = legacy ? "asymmetric" : c.GetString("coordinate_transformation_mode", "half_pixel");
        var nearestMode = legacy ? "floor" : c.GetString("nearest_mode", "round_prefer_floor");
        var scalesInput = legacy ? c.Optional(1) : c.Optional(2);
        var sizesInput = legacy ? null : c.Optional(3);
        var scales = scalesInput is { Length: > 0 } ? scalesInput.Data : null;
        var sizes = sizesInput is { Length: > 0 } ? sizesInput.AsLongs() : null;
        var axes = c.GetInts("axes")?.Select(a => OpContext.Axis(a, x.Rank)).ToArray() ?? [.. Enumerable.Range(0, x.Rank)];
        if ((scales is null) == (sizes is null))
        {
            throw new ModelException("give exactly one of scales and sizes.");
        }

        if (c.GetString("keep_aspect_ratio_policy", "stretch") != "stretch")
        {
            throw new ModelException("only keep_aspect_ratio_policy stretch is supported.");
        }

        var outShape = (int[])x.Shape.Clone();
        var scale = Enumerable.Repeat(1f, x.Rank).ToArray();
        for (var i = 0; i < axes.Length; i++)
        {
            var d = axes[i];
            if (scales is not null)
            {
                scale[d] = scales[i];
                outShape[d] = (int)Math.Floor(x.Shape[d] * scales[i]);
            }
            else
            {
                outShape[d] = (int)sizes![i];
                scale[d] = x.Shape[d] == 0 ? 1f : (float)sizes[i] / x.Shape[d];
            }
        }

        var result = x;
        for (var d = 0; d < x.Rank; d++)
        {
            if (outShape[d] != x.Shape[d] || scale[d] != 1f)
            {
                result = ResizeAxis(result, d, outShape[d], scale[d], mode, transform, nearestMode);
            }
        }

        return [result];
    }

    /// <summary>Resizes along one axis (nearest and linear are separable, so axes are done one after another).</summary>
    private static Tensor ResizeAxis(Tensor x, int axis, int size, float scale, string mode, string transform, string nearestMode)
    {
        var (outer, length, inner) = Reductions.Around(x.Shape, axis);
        var shape = (int[])x.Shape.Clone();
        shape[axis] = size;
        var y = Buffers.Floats(Tensor.CheckedCount([outer, size, inner]));
        var data = x.Values;
        for (var o = 0; o < size; o++)
        {
            var source = transform switch
            {
                "half_pixel" => ((o + 0.5f) / scale) - 0.5f,
                "pytorch_half_pixel" => size > 1 ? ((o + 0.5f) / scale) - 0.5f : 0f,
                "align_corners" => size == 1 ? 0f : o * (length - 1) / (float)(size - 1),
                "asymmetric" => o / scale,
                _ => throw new ModelException($"coordinate_transformation_mode {transform} is not supported."),
            };
            int lo, hi;
            float weight;
            if (mode == "nearest")
            {
                var frac = source - MathF.Floor(source);
                var pick = nearestMode switch
                {
                    "round_prefer_floor" => frac == 0.5f ? MathF.Floor(source) : MathF.Round(source),
                    "round_prefer_ceil" => frac == 0.5f ? MathF.Ceiling(source) : MathF.Round(source),
                    "floor" => MathF.Floor(source),
                    "ceil" => MathF.Ceiling(source),
                    _ => throw new ModelException($"nearest_mode {nearestMode} is not supported."),
                };
                (lo, hi, weight) = ((int)Math.Clamp(pick, 0, length - 1), 0, 0f);
            }
            else
            {
                var clamped = Math.Clamp(source, 0f, length - 1);
                lo = (int)MathF.Floor(clamped);
                hi = Math.Min(lo + 1, length - 1);
                weight = clamped - lo;
            }

            for (var a = 0; a < outer; a++)
            {
                for (var i = 0; i < inner; i++)
                {
                    var low = data[(((a * length) + lo) * inner) + i];
                    y[(((a * size) + o) * inner) + i] = weight == 0f ? low : low + (weight * (data[(((a * length) + hi) * inner) + i] - low));
                }
            }
        }

        return new Tensor(shape, y);
    }
}
