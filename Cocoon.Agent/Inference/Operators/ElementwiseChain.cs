using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// A chain of element-wise nodes that load-time fusion made one (<see cref="GraphFusion"/>): a
/// BatchNormalization, Mul and Add by per-channel constants and a Relu after a Concat (DenseNet's
/// every layer), a residual Add and its Relu, an epsilon Add and a Sqrt. Input 0 is the value that flows
/// through the chain; each binary step reads one more input, broadcast into it. On the CPU, when every
/// operand is float32 and varies along one run of adjacent axes, the chain is one pass: each block of a
/// few thousand elements is read once, takes every step while it is in the L1 cache and is written once.
/// Otherwise (other element types, operands that would widen the value, a GPU run) each step runs as
/// the node it was, through its own operator's checks and kernels, so the chain means exactly what the
/// nodes meant. Only fusion writes this operator; a model naming it is refused.
/// </summary>
[OperatorFamily]
internal static class ElementwiseChain
{
    public const string Name = "ElementwiseChain";

    /// <summary>The operators a binary step may be (Sum of two is written as Add).</summary>
    public static readonly IReadOnlySet<string> Binaries = new HashSet<string>(["Add", "Sub", "Mul", "Div", "Pow", "Min", "Max"], StringComparer.Ordinal);

    /// <summary>Elements one block holds: 8 KiB, so a block and an operand's slice stay in L1 through every step.</summary>
    private const int Block = 2048;

    /// <summary>The shortest run of elements with one operand value or slice worth a fused pass; shorter ones go step by step through the broadcasting kernels.</summary>
    private const int MinSegment = 16;

    private static readonly ConditionalWeakTable<NodeProto, Prepared> Parsed = [];

    private static readonly IReadOnlyDictionary<string, AttributeProto> NoAttributes = new Dictionary<string, AttributeProto>();

    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = Name,
            Internal = true,
            Attributes = [FusionAttributes.Steps, FusionAttributes.Nodes],
            Inputs = Arity.Any,
            Shape = Shape,
            // Billed as the nodes it replaced were: one FLOP per output element each.
            Flops = (c, results) => results[0].Length * c.GetInt(GraphFusion.Nodes, Prepare(c).Steps.Length),
            Run = Run,
        };
    }

    /// <summary>
    /// One step: an operator from <see cref="Elementwise.Unaries"/> or <see cref="Binaries"/>, and for a
    /// binary one the input it reads, whether that input is the left operand (c − x rather than x − c),
    /// and whether it holds one value per channel (axis 1) rather than broadcasting as ONNX does.
    /// </summary>
    public readonly record struct Step(string Op, int Operand = -1, bool Left = false, bool Channel = false)
    {
        /// <summary>The attribute string: "Relu", "Mul 2", "Sub 1 left", "Add 3 channel".</summary>
        public override string ToString() =>
            Operand < 0 ? Op : $"{Op} {Operand.ToString(CultureInfo.InvariantCulture)}{(Left ? " left" : "")}{(Channel ? " channel" : "")}";

        public static Step Parse(string text, int inputs)
        {
            var parts = text.Split(' ');
            if (parts.Length == 1 && Elementwise.Unaries.ContainsKey(parts[0]))
            {
                return new Step(parts[0]);
            }

            if (parts.Length >= 2 && Binaries.Contains(parts[0]) && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var operand)
                && operand >= 1 && operand < inputs && parts.Skip(2).All(p => p is "left" or "channel") && parts.Skip(2).Distinct().Count() == parts.Length - 2)
            {
                return new Step(parts[0], operand, parts.Contains("left"), parts.Contains("channel"));
            }

            throw new ModelException($"fused step '{text}' is not one the engine writes.");
        }
    }

    /// <summary>
    /// A chain node's steps, parsed once, with each step's node and the guard that checks it when the
    /// chain runs step by step (which then, like every node's guard, re-checks only when shapes change).
    /// </summary>
    internal sealed record Prepared(Step[] Steps, NodeProto[] Nodes, NodeGuard[] Guards);

    internal static Prepared Prepare(OpContext c) => Parsed.GetValue(c.Node, node =>
    {
        var texts = node.Attribute.FirstOrDefault(a => a.Name == GraphFusion.Steps)?.Strings ?? throw new ModelException("a fused chain without steps.");
        Step[] steps = [.. texts.Select(s => Step.Parse(s.ToStringUtf8(), node.Input.Count))];
        NodeProto[] nodes = [.. steps.Select(StepNode)];
        return new Prepared(steps, nodes, [.. steps.Select((step, k) => new NodeGuard(OperatorCatalog.Get(step.Op), nodes[k], NoAttributes, c.Opset))]);
    });

    /// <summary>Each step's own shape rule in turn, so the chain accepts exactly the shapes its nodes did.</summary>
    private static long[]?[] Shape(ShapeContext c)
    {
        var current = c.In(0);
        var prepared = Prepare(c);
        for (var k = 0; k < prepared.Steps.Length; k++)
        {
            var step = prepared.Steps[k];
            if (step.Operand < 0)
            {
                continue;
            }

            var operand = c.In(step.Operand);
            if (step.Channel)
            {
                if (current is null || operand is null)
                {
                    return [null];
                }

                if (current.Length < 2 || operand.Length != 1)
                {
                    throw new ModelException($"a per-channel step needs [N, C, …] and one value per channel; it has {Dims.Describe(current)} and {Dims.Describe(operand)}.");
                }

                Dims.Same(operand[0], current[1], "the channels and the per-channel operand");
                continue;
            }

            long[]?[] shapes = step.Left ? [operand, current] : [current, operand];
            current = OperatorCatalog.Get(step.Op).Shape(new ShapeContext(prepared.Nodes[k], shapes, new Tensor?[2], c.Opset))[0];
        }

        return [current];
    }

    private static Tensor[] Run(OpContext c)
    {
        var prepared = Prepare(c);
        var x = c.Input(0);
        return c.Gpu is null && x.Type == ElementType.Float32 && Plan(c, prepared.Steps, x) is { } plan
            ? [Fused(x, prepared.Steps, plan)]
            : [Stepwise(c, prepared)];
    }

    /// <summary>Where a binary step's operand lies: element i of x reads value (i / Inner) % Count.</summary>
    internal readonly record struct Operand(FloatBuffer Values, int Inner, int Count);

    /// <summary>
    /// How each binary step's operand lines up with x, and the run length S within which each operand
    /// is one value or one contiguous slice; null when one does not line up (it would widen x, or vary
    /// along axes that are not adjacent), when an operand is not float32, or when S is too short to pay.
    /// </summary>
    internal static (Operand[] Operands, int Segment)? Plan(OpContext c, Step[] steps, Tensor x)
    {
        var operands = new Operand[steps.Length];
        var segment = x.Length;
        for (var k = 0; k < steps.Length; k++)
        {
            if (steps[k].Operand < 0)
            {
                continue;
            }

            var t = c.Input(steps[k].Operand);
            if (t.Type != ElementType.Float32)
            {
                return null;
            }

            int[] shape = steps[k].Channel ? [t.Length, .. Enumerable.Repeat(1, Math.Max(x.Rank - 2, 0))] : t.Shape;
            if (Lines(shape, x.Shape) is not { } line)
            {
                return null;
            }

            operands[k] = new Operand(t.Values, line.Inner, t.Length);
            if (t.Length > 1)
            {
                segment = (int)Gcd(segment, line.Inner > 1 ? line.Inner : t.Length);
            }
        }

        return segment >= MinSegment || x.Length < MinSegment ? (operands, Math.Max(segment, 1)) : null;
    }

    /// <summary>
    /// The stride of an operand of <paramref name="shape"/> broadcast into <paramref name="x"/> without
    /// widening it: the elements of x after its last varying axis, when its varying axes are adjacent.
    /// </summary>
    private static (int Inner, int Span)? Lines(int[] shape, int[] x)
    {
        if (shape.Length > x.Length)
        {
            return null;
        }

        int first = -1, last = -1;
        for (var d = 0; d < shape.Length; d++)
        {
            var (o, v) = (shape[d], x[x.Length - shape.Length + d]);
            if (o != v && o != 1)
            {
                return null;
            }

            if (o > 1)
            {
                first = first < 0 ? d : first;
                last = d;
            }
        }

        if (first < 0)
        {
            return (1, 1);
        }

        var offset = x.Length - shape.Length;
        long inner = 1, spanned = 1, count = 1;
        for (var d = offset + last + 1; d < x.Length; d++)
        {
            inner *= x[d];
        }

        for (var d = first; d <= last; d++)
        {
            spanned *= x[offset + d];
            count *= shape[d];
        }

        return spanned == count ? ((int)inner, (int)count) : null;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>Every step over each block while it is in the L1 cache: x read once, the result written once.</summary>
    private static Tensor Fused(Tensor x, Step[] steps, (Operand[] Operands, int Segment) plan)
    {
        var (source, y) = (x.Values, Buffers.Overwritten(x.Length));
        var (operands, segment) = plan;
        Chunks.For(x.Length, 1, (start, count) =>
        {
            var end = start + count;
            for (var at = start; at < end;)
            {
                var next = Math.Min(Math.Min(end, at + Block), ((at / segment) + 1) * segment);
                var block = y.Span.Slice(at, next - at);
                ReadOnlySpan<float> from = source.Span.Slice(at, next - at);
                for (var k = 0; k < steps.Length; k++)
                {
                    Apply(steps[k], operands[k], from, block, at);
                    from = block;
                }

                at = next;
            }
        });
        return new Tensor(x.Shape, y);
    }

    private static void Apply(Step step, Operand operand, ReadOnlySpan<float> x, Span<float> y, int at)
    {
        if (step.Operand < 0)
        {
            Elementwise.Unaries[step.Op].Map(x, y);
            return;
        }

        if (operand.Count == 1 || operand.Inner > 1)
        {
            var value = operand.Values.Span[operand.Count == 1 ? 0 : at / operand.Inner % operand.Count];
            Scalar(step, x, value, y);
        }
        else
        {
            Vector(step, x, operand.Values.Span.Slice(at % operand.Count, y.Length), y);
        }
    }

    private static void Scalar(Step step, ReadOnlySpan<float> x, float c, Span<float> y)
    {
        switch (step.Op)
        {
            case "Add": TensorPrimitives.Add(x, c, y); break;
            case "Mul": TensorPrimitives.Multiply(x, c, y); break;
            case "Sub" when step.Left: TensorPrimitives.Subtract(c, x, y); break;
            case "Sub": TensorPrimitives.Subtract(x, c, y); break;
            case "Div" when step.Left: TensorPrimitives.Divide(c, x, y); break;
            case "Div": TensorPrimitives.Divide(x, c, y); break;
            case "Pow" when step.Left: TensorPrimitives.Pow(c, x, y); break;
            case "Pow" when c == 2f: TensorPrimitives.Multiply(x, x, y); break; // as the broadcasting kernel squares: x·x
            case "Pow": TensorPrimitives.Pow(x, c, y); break;
            case "Min": TensorPrimitives.Min(x, c, y); break;
            default: TensorPrimitives.Max(x, c, y); break;
        }
    }

    private static void Vector(Step step, ReadOnlySpan<float> x, ReadOnlySpan<float> c, Span<float> y)
    {
        switch (step.Op)
        {
            case "Add": TensorPrimitives.Add(x, c, y); break;
            case "Mul": TensorPrimitives.Multiply(x, c, y); break;
            case "Sub" when step.Left: TensorPrimitives.Subtract(c, x, y); break;
            case "Sub": TensorPrimitives.Subtract(x, c, y); break;
            case "Div" when step.Left: TensorPrimitives.Divide(c, x, y); break;
            case "Div": TensorPrimitives.Divide(x, c, y); break;
            case "Pow" when step.Left: TensorPrimitives.Pow(c, x, y); break;
            case "Pow": TensorPrimitives.Pow(x, c, y); break;
            case "Min": TensorPrimitives.Min(x, c, y); break;
            default: TensorPrimitives.Max(x, c, y); break;
        }
    }

    /// <summary>Each step as the node it was: its operator's type and shape checks, then its kernel (the GPU's on a GPU run).</summary>
    private static Tensor Stepwise(OpContext c, Prepared prepared)
    {
        var current = c.Input(0);
        for (var k = 0; k < prepared.Steps.Length; k++)
        {
            var step = prepared.Steps[k];
            Tensor?[] args;
            if (step.Operand < 0)
            {
                args = [current];
            }
            else
            {
                var operand = c.Input(step.Operand);
                if (step.Channel)
                {
                    operand = operand.Reshaped([operand.Length, .. Enumerable.Repeat(1, Math.Max(current.Rank - 2, 0))]);
                }

                args = step.Left ? [operand, current] : [current, operand];
            }

            var guard = prepared.Guards[k];
            var expected = guard.Expect(args);
            var results = guard.Schema.Run(new OpContext(prepared.Nodes[k], args, c.Opset, c.Gpu));
            NodeGuard.Confirm(results, expected);
            var previous = current;
            current = results[0];

            // On a GPU run, an intermediate's device memory goes as soon as the next step has read it,
            // as the graph frees a value after its last reader (the run would otherwise hold it to the end).
            if (c.Gpu is { } gpu && k > 0 && previous.Device is { } used && used != current.Device
                && !Enumerable.Range(0, c.InputCount).Any(i => c.Optional(i)?.Device == used))
            {
                gpu.Retain(previous);
                gpu.Release(previous);
            }
        }

        return current;
    }

    private static NodeProto StepNode(Step step)
    {
        var node = new NodeProto { OpType = step.Op, Output = { "y" } };
        node.Input.AddRange(step.Operand < 0 ? ["x"] : ["a", "b"]);
        return node;
    }
}
