using System.Numerics.Tensors;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>Element-wise operators: activations, arithmetic with broadcasting, comparisons, Where, Cast, Clip.</summary>
[OperatorFamily]
internal static class Elementwise
{
    /// <summary>
    /// The element-wise functions without attributes, as the CPU applies them over spans (a span may be
    /// its own destination): each is an operator of its own and a step of a fused chain (<see cref="ElementwiseChain"/>).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (UnaryOp Code, Action<ReadOnlySpan<float>, Span<float>> Map, long Since)> Unaries =
        new Dictionary<string, (UnaryOp, Action<ReadOnlySpan<float>, Span<float>>, long)>(StringComparer.Ordinal)
        {
            ["Relu"] = (UnaryOp.Relu, static (x, y) => TensorPrimitives.Max(x, 0f, y), OnnxModel.MinOpset),
            ["Sigmoid"] = (UnaryOp.Sigmoid, static (x, y) => TensorPrimitives.Sigmoid(x, y), OnnxModel.MinOpset),
            ["Tanh"] = (UnaryOp.Tanh, static (x, y) => TensorPrimitives.Tanh(x, y), OnnxModel.MinOpset),
            ["Exp"] = (UnaryOp.Exp, static (x, y) => TensorPrimitives.Exp(x, y), OnnxModel.MinOpset),
            ["Log"] = (UnaryOp.Log, static (x, y) => TensorPrimitives.Log(x, y), OnnxModel.MinOpset),
            ["Neg"] = (UnaryOp.Neg, static (x, y) => TensorPrimitives.Negate(x, y), OnnxModel.MinOpset),
            ["Abs"] = (UnaryOp.Abs, static (x, y) => TensorPrimitives.Abs(x, y), OnnxModel.MinOpset),
            ["Sqrt"] = (UnaryOp.Sqrt, static (x, y) => TensorPrimitives.Sqrt(x, y), OnnxModel.MinOpset),
            ["Reciprocal"] = (UnaryOp.Reciprocal, static (x, y) => TensorPrimitives.Reciprocal(x, y), OnnxModel.MinOpset),
            ["Erf"] = (UnaryOp.Erf, VectorMath.Erf, OnnxModel.MinOpset),
            ["Floor"] = (UnaryOp.Floor, static (x, y) => TensorPrimitives.Floor(x, y), OnnxModel.MinOpset),
            ["Ceil"] = (UnaryOp.Ceil, static (x, y) => TensorPrimitives.Ceiling(x, y), OnnxModel.MinOpset),
            ["Round"] = (UnaryOp.Round, static (x, y) => TensorPrimitives.Round(x, y), 11),
            ["Sin"] = (UnaryOp.Sin, static (x, y) => TensorPrimitives.Sin(x, y), OnnxModel.MinOpset),
            ["Cos"] = (UnaryOp.Cos, static (x, y) => TensorPrimitives.Cos(x, y), OnnxModel.MinOpset),
        };

    public static IEnumerable<OperatorSchema> Declare()
    {
        foreach (var (name, unary) in Unaries)
        {
            yield return Unary(name, unary.Code, unary.Map) with { SinceOpset = unary.Since };
        }

        yield return Mapped("LeakyRelu", LeakyRelu, AttributeDeclaration.Float("alpha"));
        yield return Mapped("Elu", c => Map(c, UnaryOp.Elu, c.GetFloat("alpha", 1f), 0f, static (v, a, _) => v >= 0 ? v : a * (MathF.Exp(v) - 1)), AttributeDeclaration.Float("alpha"));
        yield return Mapped("Selu", c => Map(c, UnaryOp.Selu, c.GetFloat("alpha", 1.67326319217681884765625f), c.GetFloat("gamma", 1.05070102214813232421875f),
            static (v, a, g) => g * (v > 0 ? v : a * (MathF.Exp(v) - 1))), AttributeDeclaration.Float("alpha"), AttributeDeclaration.Float("gamma"));
        yield return Mapped("Softplus", c => Map(c, UnaryOp.Softplus, 0f, 0f, static (v, _, _) => v > 0 ? v + MathF.Log(1 + MathF.Exp(-v)) : MathF.Log(1 + MathF.Exp(v))));
        yield return Mapped("Sign", c => Map(c, UnaryOp.Sign, 0f, 0f, static (v, _, _) => v > 0 ? 1f : v < 0 ? -1f : v));
        yield return Mapped("Shrink", c => Map(c, UnaryOp.Shrink, c.GetFloat("lambd", 0.5f), c.GetFloat("bias", 0f), static (v, l, b) => v < -l ? v + b : v > l ? v - b : 0f),
            AttributeDeclaration.Float("lambd"), AttributeDeclaration.Float("bias")) with
        { SinceOpset = 9 };
        yield return Mapped("HardSigmoid", c => Map(c, UnaryOp.HardSigmoid, c.GetFloat("alpha", 0.2f), c.GetFloat("beta", 0.5f), static (v, a, b) => Math.Clamp((a * v) + b, 0f, 1f)),
            AttributeDeclaration.Float("alpha"), AttributeDeclaration.Float("beta"));
        yield return Mapped("HardSwish", c => Map(c, UnaryOp.HardSwish, 0f, 0f, static (v, _, _) => v * Math.Clamp((v / 6f) + 0.5f, 0f, 1f))) with { SinceOpset = 14 };
        yield return Mapped("Mish", c => Map(c, UnaryOp.Mish, 0f, 0f, static (v, _, _) => v * MathF.Tanh(v > 0 ? v + MathF.Log(1 + MathF.Exp(-v)) : MathF.Log(1 + MathF.Exp(v))))) with { SinceOpset = 18 };
        yield return Mapped("Celu", c => Map(c, UnaryOp.Celu, c.GetFloat("alpha", 1f), 0f, static (v, a, _) => MathF.Max(0f, v) + MathF.Min(0f, a * (MathF.Exp(v / a) - 1f))), AttributeDeclaration.Float("alpha"))
            with
        { SinceOpset = 12 };
        var erfGelu = Unary(UnaryOp.Gelu, VectorMath.Gelu);
        yield return Mapped(
            "Gelu",
            c => c.GetString("approximate", "none") == "tanh"
                ? Map(c, UnaryOp.GeluTanh, 0f, 0f, static (v, _, _) => 0.5f * v * (1f + MathF.Tanh(0.7978845608f * (v + (0.044715f * v * v * v)))))
                : erfGelu(c),
            AttributeDeclaration.String("approximate", "none", "tanh")) with
        { SinceOpset = 20 };
        yield return new OperatorSchema { Name = "Identity", Shape = SameShape, Run = c => [c.Input(0)] };
        yield return new OperatorSchema
        {
            Name = "Dropout",
            Attributes = [AttributeDeclaration.Float("ratio"), AttributeDeclaration.Int("seed")],
            Inputs = new(1, 3),
            Outputs = new(1, 2),
            InputTypes = [ElementTypes.Float, ElementTypes.Float, ElementTypes.Bool],
            Shape = c => [c.In(0), c.In(0)],
            Run = c => c.OutputCount > 1 && c.Node.Output[1].Length > 0
                ? [c.Input(0), Tensor.OfBools(c.Input(0).Shape, Enumerable.Repeat(true, c.Input(0).Length).ToArray())]
                : [c.Input(0)],
        };
        yield return new OperatorSchema
        {
            Name = "Not",
            InputTypes = [ElementTypes.Bool],
            Shape = SameShape,
            Run = c => [Tensor.OfBools(c.Input(0).Shape, [.. c.Input(0).Bools.Select(b => !b)])],
        };

        yield return Arithmetic("Add", BinaryOp.Add, static (a, b) => a + b, static (a, b) => a + b);
        yield return Arithmetic("Sub", BinaryOp.Sub, static (a, b) => a - b, static (a, b) => a - b);
        yield return Arithmetic("Mul", BinaryOp.Mul, static (a, b) => a * b, static (a, b) => a * b);
        yield return Arithmetic("Div", BinaryOp.Div, static (a, b) => a / b, static (a, b) => b == 0 ? throw new ModelException("integer division by zero.") : a / b);
        yield return Broadcasting2("Pow", ElementTypes.Numeric, c => [Float(c, c.Input(0), c.Input(1).Type == ElementType.Float32 ? c.Input(1) : Cast(c.Input(1), ElementType.Float32), BinaryOp.Pow, MathF.Pow)])
            with
        { InputTypes = [ElementTypes.Float, ElementTypes.Numeric] };
        yield return Broadcasting2("Mod", ElementTypes.Numeric, Mod) with { Attributes = [AttributeDeclaration.Int("fmod", 0, 1)], SinceOpset = 10, SharedType = 2 };
        yield return Variadic("Sum", BinaryOp.Add, static (a, b) => a + b, static (a, b) => a + b);
        yield return Broadcasting2("PRelu", ElementTypes.Float, c =>
        {
            if (!Broadcasting.Shape(c.Input(0).Shape, c.Input(1).Shape).SequenceEqual(c.Input(0).Shape))
            {
                throw new ModelException($"PRelu's slope [{string.Join(", ", c.Input(1).Shape)}] does not broadcast to X [{string.Join(", ", c.Input(0).Shape)}].");
            }

            return [Float(c, c.Input(0), c.Input(1), BinaryOp.PRelu, static (x, slope) => x < 0 ? x * slope : x)];
        });
        yield return Variadic("Min", BinaryOp.Min, MathF.Min, Math.Min);
        yield return Variadic("Max", BinaryOp.Max, MathF.Max, Math.Max);
        yield return Compare("Equal", static (a, b) => a == b, static (a, b) => a == b) with { InputTypes = [ElementTypes.Any], SharedType = 2 };
        yield return Compare("Less", static (a, b) => a < b, static (a, b) => a < b);
        yield return Compare("Greater", static (a, b) => a > b, static (a, b) => a > b);
        yield return Compare("GreaterOrEqual", static (a, b) => a >= b, static (a, b) => a >= b) with { SinceOpset = 12 };
        yield return Compare("LessOrEqual", static (a, b) => a <= b, static (a, b) => a <= b) with { SinceOpset = 12 };
        yield return Logic("And", static (a, b) => a & b);
        yield return Logic("Or", static (a, b) => a | b);
        yield return Logic("Xor", static (a, b) => a ^ b);
        yield return new OperatorSchema
        {
            Name = "IsNaN",
            SinceOpset = 9,
            InputTypes = [ElementTypes.Float],
            Shape = SameShape,
            Run = c => [Tensor.OfBools(c.Input(0).Shape, [.. c.Input(0).Data.Select(float.IsNaN)])],
        };
        yield return new OperatorSchema
        {
            Name = "IsInf",
            SinceOpset = 10,
            Attributes = [AttributeDeclaration.Int("detect_negative", 0, 1), AttributeDeclaration.Int("detect_positive", 0, 1)],
            InputTypes = [ElementTypes.Float],
            Shape = SameShape,
            Run = c =>
            {
                var (negative, positive) = (c.GetInt("detect_negative", 1) == 1, c.GetInt("detect_positive", 1) == 1);
                return [Tensor.OfBools(c.Input(0).Shape, [.. c.Input(0).Data.Select(v => (negative && float.IsNegativeInfinity(v)) || (positive && float.IsPositiveInfinity(v)))])];
            },
        };
        yield return new OperatorSchema
        {
            Name = "Where",
            Inputs = new(3, 3),
            InputTypes = [ElementTypes.Bool, ElementTypes.Any],
            SharedTypeFrom = 1,
            SharedType = 2,
            Shape = c => [Dims.BroadcastAll(c.Shapes)],
            Run = Where,
        };
        yield return new OperatorSchema
        {
            Name = "Cast",
            Attributes = [AttributeDeclaration.Int("to"), AttributeDeclaration.Int("saturate", 0, 1)],
            InputTypes = [ElementTypes.Any],
            Shape = SameShape,
            Run = c => [CastTo(c.Input(0), c.GetInt("to", 1))],
        };
        yield return new OperatorSchema
        {
            Name = "Clip",
            Attributes = [AttributeDeclaration.Float("min"), AttributeDeclaration.Float("max")],
            Inputs = new(1, 3),
            InputTypes = [ElementTypes.Float],
            Shape = c =>
            {
                // min and max are scalars: the kernel reads their one element.
                foreach (var bound in new[] { c.In(1), c.In(2) }.OfType<long[]>())
                {
                    if (Dims.Product(bound) is var count && count != 1 && count != Dims.Unknown)
                    {
                        throw new ModelException($"min and max must hold one value; one has shape {Dims.Describe(bound)}.");
                    }
                }

                return [c.In(0)];
            },
            Run = Clip,
        };
    }

    /// <summary>The shape rule of operators whose output is shaped like their first input.</summary>
    public static long[]?[] SameShape(ShapeContext c) => [c.In(0)];

    public static Tensor Cast(Tensor x, ElementType to) => (x.Type, to) switch
    {
        _ when x.Type == to => x,
        (ElementType.Int64, ElementType.Float32) => new Tensor(x.Shape, [.. x.Longs.Select(v => (float)v)]),
        (ElementType.Bool, ElementType.Float32) => new Tensor(x.Shape, [.. x.Bools.Select(v => v ? 1f : 0f)]),
        (ElementType.Float32, ElementType.Int64) => Tensor.OfLongs(x.Shape, Convert(x.Values.Span, static v => (long)v)),
        (ElementType.Bool, ElementType.Int64) => Tensor.OfLongs(x.Shape, [.. x.Bools.Select(v => v ? 1L : 0L)]),
        (ElementType.Float32, ElementType.Bool) => Tensor.OfBools(x.Shape, Convert(x.Values.Span, static v => v != 0)),
        _ => Tensor.OfBools(x.Shape, [.. x.Longs.Select(v => v != 0)]),
    };

    private static T[] Convert<T>(ReadOnlySpan<float> values, Func<float, T> convert)
    {
        var result = new T[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = convert(values[i]);
        }

        return result;
    }

    /// <summary>
    /// Cast to an ONNX element type. The engine holds float32, int64 and bool: narrower floats (float16,
    /// bfloat16) and double are float32 values rounded as the target type would hold them; narrower and
    /// unsigned integers are int64 values wrapped into the target's range, as a C cast wraps them.
    /// </summary>
    private static Tensor CastTo(Tensor x, long onnxType) => onnxType switch
    {
        1 or 11 => Cast(x, ElementType.Float32),
        10 => Rounded(Cast(x, ElementType.Float32), static v => (float)(Half)v),
        16 => Rounded(Cast(x, ElementType.Float32), BFloat16),
        7 or 13 => Cast(x, ElementType.Int64),
        9 => Cast(x, ElementType.Bool),
        6 => Wrapped(x, static v => (int)v),
        5 => Wrapped(x, static v => (short)v),
        3 => Wrapped(x, static v => (sbyte)v),
        2 => Wrapped(x, static v => (byte)v),
        4 => Wrapped(x, static v => (ushort)v),
        12 => Wrapped(x, static v => (uint)v),
        _ => throw new ModelException($"Cast to ONNX type {onnxType} is not supported (float32/16, bfloat16, double, the integers and bool are; strings are not)."),
    };

    private static Tensor Rounded(Tensor x, Func<float, float> round) => new(x.Shape, Convert(x.Values.Span, round));

    private static Tensor Wrapped(Tensor x, Func<long, long> wrap) =>
        Tensor.OfLongs(x.Shape, [.. Cast(x, ElementType.Int64).Longs.Select(wrap)]);

    /// <summary>A float32 rounded to bfloat16 (nearest, ties to even), as a float32.</summary>
    private static float BFloat16(float v)
    {
        if (float.IsNaN(v))
        {
            return v;
        }

        var bits = BitConverter.SingleToUInt32Bits(v);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000);
    }

    private static OperatorSchema Unary(string name, UnaryOp code, Action<ReadOnlySpan<float>, Span<float>> op) => Mapped(name, Unary(code, op));

    /// <summary>A float operator applied element by element, with its attributes.</summary>
    private static OperatorSchema Mapped(string name, Func<OpContext, Tensor[]> run, params AttributeDeclaration[] attributes) => new()
    {
        Name = name,
        Attributes = attributes,
        InputTypes = [ElementTypes.Float],
        Shape = SameShape,
        Run = run,
    };

    /// <summary>A two-input operator with NumPy broadcasting.</summary>
    private static OperatorSchema Broadcasting2(string name, ElementType[] types, Func<OpContext, Tensor[]> run) => new()
    {
        Name = name,
        Inputs = new(2, 2),
        InputTypes = [types],
        Shape = c => [Dims.BroadcastAll(c.Shapes)],
        Run = run,
    };

    /// <summary>An element-wise operator: the <paramref name="code"/> kernel on a GPU run, <paramref name="op"/> over spans on the CPU.</summary>
    private static Func<OpContext, Tensor[]> Unary(UnaryOp code, Action<ReadOnlySpan<float>, Span<float>> op) =>
        c =>
        {
            var x = c.Input(0);
            if (c.Gpu is { } gpu)
            {
                return [gpu.Unary(x, code)];
            }

            return [Vectorised(x, op)];
        };

    /// <summary><paramref name="op"/> over x into a new tensor, split across cores when large.</summary>
    private static Tensor Vectorised(Tensor x, Action<ReadOnlySpan<float>, Span<float>> op)
    {
        var (data, y) = (x.Values, Buffers.Floats(x.Length));
        Chunks.For(y.Length, 1, (start, count) => op(data.AsSpan(start, count), y.AsSpan(start, count)));
        return new Tensor(x.Shape, y);
    }

    /// <summary>An element-wise function with two parameters: the <paramref name="code"/> kernel on a GPU run, <paramref name="op"/> on the CPU.</summary>
    /// <summary>LeakyRelu: max(x, αx) vectorised for 0 ≤ α ≤ 1 on the CPU; the element map otherwise and on a GPU.</summary>
    private static Tensor[] LeakyRelu(OpContext c)
    {
        var alpha = c.GetFloat("alpha", 0.01f);
        if (c.Gpu is not null || alpha is < 0 or > 1)
        {
            return Map(c, UnaryOp.LeakyRelu, alpha, 0f, static (v, a, _) => v >= 0 ? v : a * v);
        }

        var x = c.Input(0);
        var (data, y) = (x.Values, Buffers.Overwritten(x.Length));
        Chunks.For(y.Length, 1, (start, count) =>
        {
            var to = y.Span.Slice(start, count);
            TensorPrimitives.Multiply(data.Span.Slice(start, count), alpha, to);
            TensorPrimitives.Max(data.Span.Slice(start, count), to, to);
        });
        return [new Tensor(x.Shape, y)];
    }

    private static Tensor[] Map(OpContext c, UnaryOp code, float p, float q, Func<float, float, float, float> op)
    {
        var x = c.Input(0);
        if (c.Gpu is { } gpu)
        {
            return [gpu.Unary(x, code, p, q)];
        }

        var (data, y) = (x.Values, Buffers.Overwritten(x.Length));
        Chunks.For(y.Length, 1, (start, count) =>
        {
            var from = data.Span.Slice(start, count);
            var to = y.Span.Slice(start, count);
            for (var i = 0; i < from.Length; i++)
            {
                to[i] = op(from[i], p, q);
            }
        });
        return [new Tensor(x.Shape, y)];
    }

    private static OperatorSchema Arithmetic(string name, BinaryOp code, Func<float, float, float> floats, Func<long, long, long> longs) =>
        Broadcasting2(name, ElementTypes.Numeric, c =>
        {
            // One element type for both: the declaration's shared type constraint was checked (NodeGuard).
            var (a, b) = (c.Input(0), c.Input(1));
            return a.Type switch
            {
                ElementType.Float32 => [Float(c, a, b, code, floats)],
                ElementType.Int64 => [Long(a, b, longs)],
                _ => throw new ModelException("bool inputs are not supported."),
            };
        }) with
        { SharedType = 2 };

    /// <summary>a + b for float tensors, vectorised where the shapes allow.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Float(null, a, b, BinaryOp.Add, static (p, q) => p + q);

    /// <summary>A broadcast float operation: the <paramref name="code"/> kernel on a GPU run, <paramref name="op"/> on the CPU.</summary>
    public static Tensor Float(OpContext? c, Tensor a, Tensor b, BinaryOp code, Func<float, float, float> op)
    {
        var shape = Broadcasting.Shape(a.Shape, b.Shape);
        if (c?.Gpu is { } gpu && GpuRun.Fits(shape))
        {
            return gpu.Binary(a, b, code, shape);
        }

        var y = Buffers.Overwritten(Tensor.CheckedCount(shape));
        BroadcastKernel.Apply(code, a.Values, a.Shape, b.Values, b.Shape, shape, y, op);
        return new Tensor(shape, y);
    }

    /// <summary>
    /// Mod: for floats C's fmod (the sign of the dividend; ONNX requires fmod=1 for them); for integers
    /// the sign of the divisor, like Python, unless fmod=1 asks for C's.
    /// </summary>
    private static Tensor[] Mod(OpContext c)
    {
        var (a, b) = (c.Input(0), c.Input(1));
        var fmod = c.GetInt("fmod", 0) == 1;
        if (a.Type == ElementType.Float32)
        {
            return fmod ? [Float(c, a, b, BinaryOp.Mod, static (p, q) => p % q)] : throw new ModelException("Mod of floats needs fmod=1.");
        }

        return [Long(a, b, fmod
            ? static (p, q) => q == 0 ? throw new ModelException("integer modulo by zero.") : q == -1 ? 0 : p % q
            : static (p, q) => q == 0 ? throw new ModelException("integer modulo by zero.") : FloorMod(p, q))];
    }

    private static long FloorMod(long p, long q)
    {
        var r = q == -1 ? 0 : p % q;
        return r != 0 && (r < 0) != (q < 0) ? r + q : r;
    }

    private static Tensor Long(Tensor a, Tensor b, Func<long, long, long> op)
    {
        var shape = Broadcasting.Shape(a.Shape, b.Shape);
        return Tensor.OfLongs(shape, Broadcasting.Zip(a.Longs, a.Shape, b.Longs, b.Shape, shape, op));
    }

    private static OperatorSchema Variadic(string name, BinaryOp code, Func<float, float, float> floats, Func<long, long, long> longs) =>
        Broadcasting2(name, ElementTypes.Numeric, c =>
        {
            var result = c.Input(0);
            for (var i = 1; i < c.InputCount; i++)
            {
                var next = c.Input(i);
                result = result.Type == ElementType.Int64 ? Long(result, next, longs) : Float(c, result, next, code, floats);
            }

            return [result];
        }) with
        { Inputs = Arity.Any, SharedType = int.MaxValue };

    /// <summary>A logical operator of two broadcast bool tensors.</summary>
    private static OperatorSchema Logic(string name, Func<bool, bool, bool> op) =>
        Broadcasting2(name, ElementTypes.Bool, c =>
        {
            var (a, b) = (c.Input(0), c.Input(1));
            var shape = Broadcasting.Shape(a.Shape, b.Shape);
            return [Tensor.OfBools(shape, Broadcasting.Zip(a.Bools, a.Shape, b.Bools, b.Shape, shape, op))];
        });

    private static OperatorSchema Compare(string name, Func<float, float, bool> floats, Func<long, long, bool> longs) =>
        Broadcasting2(name, ElementTypes.Numeric, c =>
        {
            var (a, b) = (c.Input(0), c.Input(1));
            var shape = Broadcasting.Shape(a.Shape, b.Shape);
            return a.Type switch
            {
                ElementType.Float32 => [Tensor.OfBools(shape, Broadcasting.Zip(a.Values.Span, a.Shape, b.Values.Span, b.Shape, shape, floats))],
                ElementType.Int64 => [Tensor.OfBools(shape, Broadcasting.Zip(a.Longs, a.Shape, b.Longs, b.Shape, shape, longs))],
                _ => [Tensor.OfBools(shape, Broadcasting.Zip(a.Bools, a.Shape, b.Bools, b.Shape, shape, static (p, q) => p == q))],
            };
        }) with
        { SharedType = 2 };

    private static Tensor[] Where(OpContext c)
    {
        var (condition, x, y) = (c.Input(0), c.Input(1), c.Input(2));
        var shape = Broadcasting.Shape(condition.Shape, x.Shape, y.Shape);
        var ic = Broadcasting.Indices(condition.Shape, shape);
        var ix = Broadcasting.Indices(x.Shape, shape);
        var iy = Broadcasting.Indices(y.Shape, shape);
        var count = ic.Length;
        var pickX = x.Gather(shape, ix);
        var pickY = y.Gather(shape, iy);
        var take = new int[count];
        for (var i = 0; i < count; i++)
        {
            take[i] = condition.Bools[ic[i]] ? i : count + i;
        }

        return [Tensor.Join(x.Type, [2, .. shape], [(pickX, 0, count), (pickY, 0, count)]).Gather(shape, take)];
    }

    private static Tensor[] Clip(OpContext c)
    {
        var x = c.Input(0);
        float min, max;
        if (c.Opset >= 11)
        {
            min = c.Optional(1) is { } lo ? lo.Values[0] : float.MinValue;
            max = c.Optional(2) is { } hi ? hi.Values[0] : float.MaxValue;
        }
        else
        {
            (min, max) = (c.GetFloat("min", float.MinValue), c.GetFloat("max", float.MaxValue));
        }

        if (c.Gpu is { } gpu)
        {
            return [gpu.Unary(x, UnaryOp.Clip, min, max)];
        }

        var y = Buffers.Floats(x.Length);
        TensorPrimitives.Min(x.Values.Span, max, y.Span);
        TensorPrimitives.Max(y.Span, min, y.Span);
        return [new Tensor(x.Shape, y)];
    }
}
