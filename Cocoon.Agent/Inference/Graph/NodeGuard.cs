using Cocoon.Agent.Inference.Operators;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>
/// The check before every kernel: the node's inputs against its operator's declaration (element types,
/// and the shape rule, which checks each attribute against the real shapes and gives the output shapes
/// and sizes) and, after the kernel, its outputs against those shapes. A kernel therefore only ever
/// computes indices from shapes its operator's rule accepted. The answer is kept for the shapes (and the
/// values the rule read) it was given, so a run with the same shapes pays a comparison, not the rule.
/// </summary>
internal sealed class NodeGuard(OperatorSchema schema, NodeProto node, IReadOnlyDictionary<string, AttributeProto> attributes, long opset)
{
    private Checked? _last;

    public OperatorSchema Schema => schema;

    /// <summary>What a refusal says when a kernel's output disagrees with its rule (a finding for the fuzzer).</summary>
    public const string ShapeMismatch = "the kernel and its shape rule disagree: ";

    /// <summary>What a refusal says when a shape rule failed with a .NET exception rather than a check of its own (the fuzzer counts these as findings).</summary>
    public const string RuleFailed = "the operator's shape rule could not read these inputs (";

    /// <summary>The output shapes the kernel must make (null where the rule cannot tell), after checking the inputs.</summary>
    /// <exception cref="ModelException">The inputs do not fit the operator.</exception>
    public int[]?[] Expect(Tensor?[] args)
    {
        var last = _last;
        if (last is not null && last.Matches(args))
        {
            return last.Expected;
        }

        CheckTypes(args);
        var context = new ShapeContext(node, [.. args.Select(a => a is null ? null : a.Shape.Select(d => (long)d).ToArray())], args, opset, attributes);
        long[]?[] shapes;
        try
        {
            shapes = schema.Shape(context);
        }
        catch (Exception ex) when (ModelException.IsBadInput(ex))
        {
            throw new ModelException($"{RuleFailed}{ex.Message}).");
        }

        var expected = shapes.Select(Concrete).ToArray();
        _last = new Checked(args, context.ValuesRead, expected);
        return expected;
    }

    /// <summary>Drops the inputs kept from the last check (small shape-like values, but the developer's).</summary>
    public void Forget() => _last = null;

    /// <summary>Checks what the kernel made against the shapes <see cref="Expect"/> gave.</summary>
    public static void Confirm(Tensor[] results, int[]?[] expected)
    {
        for (var i = 0; i < results.Length && i < expected.Length; i++)
        {
            if (expected[i] is { } shape && !results[i].Shape.AsSpan().SequenceEqual(shape))
            {
                throw new ModelException($"{ShapeMismatch}output {i} came out as [{string.Join(", ", results[i].Shape)}] where the operator's shape rule gives [{string.Join(", ", shape)}].");
            }
        }
    }

    private void CheckTypes(Tensor?[] args)
    {
        var shared = args.Skip(schema.SharedTypeFrom).Take(schema.SharedType).OfType<Tensor>().Select(a => a.Type).Distinct().ToList();
        if (shared.Count > 1)
        {
            throw new ModelException($"the inputs are {string.Join(" and ", shared)}; {schema.Name} takes inputs of one type.");
        }

        if (schema.InputTypes.Count == 0)
        {
            // Any tensor; sequences and strings only where an operator names them (and Identity, which hands anything on).
            var other = schema.Name == "Identity" ? null : args.OfType<Tensor>().FirstOrDefault(a => a.Type is ElementType.Sequence or ElementType.String);
            if (other is not null)
            {
                throw new ModelException($"an input is a {other.Type}; {schema.Name} takes tensors of numbers or bools.");
            }

            return;
        }

        for (var i = 0; i < args.Length; i++)
        {
            var allowed = schema.InputTypes[Math.Min(i, schema.InputTypes.Count - 1)];
            if (args[i] is { } t && !allowed.Contains(t.Type))
            {
                throw new ModelException($"input {i} is {t.Type}; {schema.Name} takes {string.Join(" or ", allowed)} there.");
            }
        }
    }

    /// <summary>A fully known shape as sizes, refused when a tensor of it could not exist; null when any dimension is unknown.</summary>
    private static int[]? Concrete(long[]? shape)
    {
        if (shape is null || shape.Contains(Dims.Unknown))
        {
            return null;
        }

        if (shape.Any(d => d < 0))
        {
            throw new ModelException($"an output of shape {Dims.Describe(shape)} cannot exist.");
        }

        if (shape.Any(d => d > int.MaxValue))
        {
            throw new ModelException($"an output of shape {Dims.Describe(shape)} would exceed {Tensor.MaxElements:N0} elements.");
        }

        var sizes = shape.Select(d => (int)d).ToArray();
        Tensor.CheckedCount(sizes);
        return sizes;
    }

    /// <summary>The inputs one check was made for: their types and shapes, and the values the rule read.</summary>
    private sealed class Checked
    {
        private readonly int[]?[] _shapes;
        private readonly ElementType[] _types;
        private readonly ulong _read;
        private readonly long[]?[] _longs;
        private readonly float[]?[] _floats;

        public Checked(Tensor?[] args, ulong read, int[]?[] expected)
        {
            _shapes = [.. args.Select(a => a is null ? null : (int[])a.Shape.Clone())];
            _types = [.. args.Select(a => a?.Type ?? ElementType.Float32)];
            _read = read;
            _longs = [.. args.Select((a, i) => Read(i) && a is not null && a.Type != ElementType.Float32 ? a.AsLongs().ToArray() : null)];
            _floats = [.. args.Select((a, i) => Read(i) && a is { Type: ElementType.Float32 } ? a.Data.ToArray() : null)];
            Expected = expected;
        }

        public int[]?[] Expected { get; }

        private bool Read(int index) => index < 64 && (_read & (1UL << index)) != 0;

        public bool Matches(Tensor?[] args)
        {
            if (args.Length != _shapes.Length)
            {
                return false;
            }

            for (var i = 0; i < args.Length; i++)
            {
                var (a, shape) = (args[i], _shapes[i]);
                if (a is null ? shape is not null : shape is null || a.Type != _types[i] || !a.Shape.AsSpan().SequenceEqual(shape))
                {
                    return false;
                }

                if (Read(i) && a is not null && !(a.Type == ElementType.Float32 ? a.Data.AsSpan().SequenceEqual(_floats[i]) : a.AsLongs().AsSpan().SequenceEqual(_longs[i])))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
