using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// One node as its shape rule sees it: the shapes of its inputs (dimensions ≥ 0 sizes, negative ones
/// symbols, <see cref="Dims.Unknown"/> unknown; a null shape an unknown rank or an absent input), the
/// values of the inputs that are known (constants at load, every input before a run), and the attributes.
/// </summary>
internal sealed class ShapeContext(NodeProto node, long[]?[] shapes, Tensor?[] values, long opset, IReadOnlyDictionary<string, AttributeProto>? attributes = null)
    : OpContext(node, values, opset, null, attributes)
{
    /// <summary>The shape of input <paramref name="index"/>, or null when unknown or absent.</summary>
    public long[]? In(int index) => index < shapes.Length ? shapes[index] : null;

    /// <summary>Every input's shape, in order.</summary>
    public IReadOnlyList<long[]?> Shapes => shapes;

    /// <summary>Whether the node names input <paramref name="index"/> (a known value or not).</summary>
    public bool Present(int index) => index < Node.Input.Count && Node.Input[index].Length > 0;

    /// <summary>The attribute's integer list, each checked to be an axis of a tensor of rank <paramref name="rank"/>.</summary>
    public int[]? Axes(string name, int rank) => GetInts(name)?.Select(a => Axis(a, rank)).ToArray();

    /// <summary>Input <paramref name="index"/>'s value as integers when it is known; null otherwise.</summary>
    public long[]? Longs(int index) => Optional(index)?.AsLongs();
}
