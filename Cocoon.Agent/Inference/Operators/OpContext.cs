using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// One node as an operator sees it: its attributes, its inputs (absent ones null), the model's opset,
/// and the GPU run to launch kernels on (null when the model runs on the CPU kernels).
/// </summary>
internal class OpContext(
    NodeProto node, Tensor?[] inputs, long opset, GpuRun? gpu = null, IReadOnlyDictionary<string, AttributeProto>? attributes = null, PackedWeights? packed = null)
{
    public NodeProto Node { get; } = node;

    public long Opset { get; } = opset;

    internal GpuRun? Gpu { get; } = gpu;

    /// <summary>The activation load-time fusion folded into this node (<see cref="GraphFusion"/>): None, Relu or Gelu.</summary>
    public Activation FusedActivation => GetString(GraphFusion.Activation, "") switch
    {
        "Relu" => Activation.Relu,
        "Gelu" => Activation.Gelu,
        _ => Activation.None,
    };

    /// <summary>
    /// <paramref name="y"/> with the fused activation applied on a GPU run (the CPU kernels apply it
    /// as they write); <paramref name="y"/> itself when there is none.
    /// </summary>
    internal Tensor Activate(GpuRun gpu, Tensor y) => Activate(gpu, y, FusedActivation);

    /// <summary><paramref name="y"/> with <paramref name="activation"/> applied by a GPU kernel.</summary>
    internal static Tensor Activate(GpuRun gpu, Tensor y, Activation activation) => activation switch
    {
        Activation.Relu => gpu.Unary(y, UnaryOp.Relu),
        Activation.Gelu => gpu.Unary(y, UnaryOp.Gelu),
        _ => y,
    };

    public int InputCount => inputs.Length;

    /// <summary>FLOPs the node's subgraphs ran (If, Loop, Scan), which its FLOP count bills.</summary>
    public long SubgraphFlops { get; set; }

    /// <summary>Outputs the node names (trailing optional ones may be absent).</summary>
    public int OutputCount => Node.Output.Count;

    /// <summary>Input <paramref name="index"/>; throws when the node does not give it.</summary>
    public Tensor Input(int index) => Optional(index) ?? throw new ModelException($"input {index} is missing.");

    /// <summary>Input <paramref name="index"/>, or null when absent (past the end or named "").</summary>
    public Tensor? Optional(int index)
    {
        if (index >= inputs.Length)
        {
            return null;
        }

        ValuesRead |= index < 64 ? 1UL << index : 0;
        return inputs[index];
    }

    /// <summary>The inputs whose values were read (bit i for input i): what a shape rule's answer depends on beyond the shapes.</summary>
    public ulong ValuesRead { get; private set; }

    /// <summary>
    /// <paramref name="weight"/> in a kernel's layout (<paramref name="form"/>, <paramref name="floats"/>
    /// long), packed once per model when it is one of the model's weights and the model's packing budget
    /// allows; otherwise null, and the caller packs it for this use.
    /// </summary>
    public float[]? PackedWeight(Tensor weight, string form, long floats, Func<float[]> pack) => packed?.For(weight, form, floats, pack);

    public long GetInt(string name, long fallback) => Attribute(name)?.I ?? fallback;

    public float GetFloat(string name, float fallback) => Attribute(name)?.F ?? fallback;

    public string GetString(string name, string fallback) => Attribute(name) is { } a ? a.S.ToStringUtf8() : fallback;

    public long[]? GetInts(string name) => Attribute(name) is { } a ? [.. a.Ints] : null;

    public float[]? GetFloats(string name) => Attribute(name) is { } a ? [.. a.Floats] : null;

    /// <summary>The attribute named <paramref name="name"/> (the first, should a node repeat one), or null.</summary>
    public AttributeProto? Attribute(string name) =>
        attributes is not null ? attributes.GetValueOrDefault(name) : Node.Attribute.FirstOrDefault(a => a.Name == name);

    /// <summary>
    /// A list that moved from an attribute to an input across opsets (axes, split, pads…): the input
    /// at <paramref name="inputIndex"/> from <paramref name="sinceOpset"/> on, the attribute before.
    /// </summary>
    public long[]? AttributeOrInput(string name, int inputIndex, long sinceOpset) =>
        Opset >= sinceOpset ? Optional(inputIndex)?.AsLongs() : GetInts(name);

    /// <summary>An axis counted from the end when negative, checked against <paramref name="rank"/>.</summary>
    public static int Axis(long axis, int rank)
    {
        var resolved = axis < 0 ? axis + rank : axis;
        if (resolved < 0 || resolved >= Math.Max(rank, 1))
        {
            throw new ModelException($"axis {axis} is out of range for rank {rank}.");
        }

        return (int)resolved;
    }
}
