using Cocoon.Agent.Inference.Cpu;
namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Everything the engine knows about one ONNX operator, in one place (ONNX's own <c>OpSchema</c>):
/// the opsets it implements, its attributes, how many inputs and outputs it takes and of which element
/// types, the shape rule with every check of attributes against shapes, its FLOP count and its kernels.
/// Loading (<see cref="OperatorCatalog.Check"/>), shape inference, the run-time checks before each
/// kernel, FLOP billing and fusion all read the declaration; nothing else describes an operator.
/// </summary>
internal sealed record OperatorSchema
{
    public required string Name { get; init; }

    /// <summary>The first default-domain opset whose definition of the operator this implements (older models are refused).</summary>
    public long SinceOpset { get; init; } = OnnxModel.MinOpset;

    /// <summary>Every attribute the operator has in the opsets it implements; a node naming any other is refused.</summary>
    public IReadOnlyList<AttributeDeclaration> Attributes { get; init; } = [];

    /// <summary>How many inputs a node may name (trailing optional ones may be left out).</summary>
    public Arity Inputs { get; init; } = new(1, 1);

    /// <summary>How many outputs a node may name.</summary>
    public Arity Outputs { get; init; } = new(1, 1);

    /// <summary>The element types each input may have (the last entry covers any further inputs); empty: any.</summary>
    public IReadOnlyList<ElementType[]> InputTypes { get; init; } = [];

    /// <summary>How many inputs from <see cref="SharedTypeFrom"/> on must have one element type (ONNX's shared type constraint T).</summary>
    public int SharedType { get; init; }

    public int SharedTypeFrom { get; init; }

    /// <summary>
    /// The output shapes from the input shapes and the values of constant inputs, checking every
    /// attribute against the shapes it meets. At load the shapes may hold symbols and unknowns; before
    /// each run of the node they are the real ones, and what the rule gives is what the kernel must make.
    /// </summary>
    public required Func<ShapeContext, long[]?[]> Shape { get; init; }

    /// <summary>The node's floating-point operations at the shapes it ran with; null: one per output element.</summary>
    public Func<OpContext, Tensor[], long>? Flops { get; init; }

    /// <summary>The kernels: the CPU ones, or the GPU ones when the context carries a GPU run.</summary>
    public required Func<OpContext, Tensor[]> Run { get; init; }

    /// <summary>The activations load-time fusion may fold into this operator's output (<see cref="GraphFusion"/>).</summary>
    public IReadOnlyList<Activation> FusedActivations { get; init; } = [];

    /// <summary>An operator only the engine's fusion writes (<see cref="ElementwiseChain"/>); a model naming it is refused as one the engine does not run.</summary>
    public bool Internal { get; init; }

    /// <summary>FLOPs when no rule is declared: one per output element.</summary>
    public long CountFlops(OpContext c, Tensor[] results) => Flops?.Invoke(c, results) ?? results.Sum(r => (long)r.Length);
}

/// <summary>The least and most inputs or outputs a node may name.</summary>
internal readonly record struct Arity(int Min, int Max)
{
    public static Arity Any => new(1, int.MaxValue);

    public bool Allows(int count) => count >= Min && count <= Max;

    public override string ToString() => Min == Max ? $"{Min}" : Max == int.MaxValue ? $"{Min} or more" : $"{Min} to {Max}";
}

/// <summary>The element-type sets declarations use.</summary>
internal static class ElementTypes
{
    public static readonly ElementType[] Float = [ElementType.Float32];

    public static readonly ElementType[] Numeric = [ElementType.Float32, ElementType.Int64];

    public static readonly ElementType[] Integer = [ElementType.Int64];

    public static readonly ElementType[] Bool = [ElementType.Bool];

    public static readonly ElementType[] Any = [ElementType.Float32, ElementType.Int64, ElementType.Bool];

    public static readonly ElementType[] Sequence = [ElementType.Sequence];

    public static readonly ElementType[] String = [ElementType.String];
}
