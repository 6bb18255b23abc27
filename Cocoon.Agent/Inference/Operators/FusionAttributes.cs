using Cocoon.Agent.Inference.Graph;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// The attributes load-time fusion writes on the nodes it folds others into (<see cref="GraphFusion"/>),
/// declared by the operators that read them. Their names are in no ONNX namespace; a model file that sets
/// one is refused at load, so only the engine's own checked rewrites can.
/// </summary>
internal static class FusionAttributes
{
    /// <summary>The activation to apply to the node's output: Relu or Gelu.</summary>
    public static readonly AttributeDeclaration Activation = new(GraphFusion.Activation, AttributeProto.Types.AttributeType.String) { Allowed = ["Relu", "Gelu"], Internal = true };

    /// <summary>The factor for a MatMul's product (a Mul or Div by a constant folded in).</summary>
    public static readonly AttributeDeclaration Scale = new(GraphFusion.Scale, AttributeProto.Types.AttributeType.Float) { Internal = true };

    /// <summary>The steps of a fused element-wise chain (<see cref="ElementwiseChain"/>).</summary>
    public static readonly AttributeDeclaration Steps = new(GraphFusion.Steps, AttributeProto.Types.AttributeType.Strings) { Internal = true };

    /// <summary>How many nodes a fused chain replaced (what it is billed for per element).</summary>
    public static readonly AttributeDeclaration Nodes = new(GraphFusion.Nodes, AttributeProto.Types.AttributeType.Int) { Min = 1, Internal = true };

    /// <summary>A 2×2 / 2 max pool folded into a Conv.</summary>
    public static readonly AttributeDeclaration Pool = new(GraphFusion.Pool, AttributeProto.Types.AttributeType.Int) { Min = 2, Max = 2, Internal = true };
}
