using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>
/// Builds ONNX models as protobuf: the reference models `cocoon-agent bench` runs, and the models
/// tests check operators with. Nodes are named after their operator and position.
/// </summary>
public sealed class OnnxGraphBuilder(long opset = 17)
{
    private readonly GraphProto _graph = new() { Name = "test" };

    public OnnxGraphBuilder Input(string name, params object[] dims) => Typed(name, 1, dims);

    public OnnxGraphBuilder Output(string name, params object[] dims)
    {
        _graph.Output.Add(ValueInfo(name, 1, dims));
        return this;
    }

    /// <summary>An input of ONNX element type <paramref name="elementType"/> (1 float, 7 int64, 9 bool).</summary>
    public OnnxGraphBuilder Typed(string name, int elementType, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, elementType, dims));
        return this;
    }

    /// <summary>An output of ONNX element type <paramref name="elementType"/> (a subgraph's outputs need their types).</summary>
    public OnnxGraphBuilder TypedOutput(string name, int elementType, params object[] dims)
    {
        _graph.Output.Add(ValueInfo(name, elementType, dims));
        return this;
    }

    /// <summary>An output whose type and shape are left to the runtime to infer.</summary>
    public OnnxGraphBuilder AnyOutput(string name)
    {
        _graph.Output.Add(new ValueInfoProto { Name = name });
        return this;
    }

    public OnnxGraphBuilder Longs(string name, int[] shape, long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 7 };
        tensor.Dims.AddRange(shape.Select(d => (long)d));
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return this;
    }

    public OnnxGraphBuilder Initializer(string name, int[] shape, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        tensor.Dims.AddRange(shape.Select(d => (long)d));
        _graph.Initializer.Add(tensor);
        return this;
    }

    public OnnxGraphBuilder Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes) =>
        Node(op, inputs, [output], attributes);

    public OnnxGraphBuilder Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op.ToLowerInvariant()}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes)
        {
            node.Attribute.Add(value switch
            {
                long i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
                int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
                float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
                long[] ints => Ints(name, ints),
                float[] floats => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats, Floats = { floats } },
                string[] texts => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings, Strings = { texts.Select(ByteString.CopyFromUtf8) } },
                string text => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(text) },
                TensorProto t => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = t },
                GraphProto g => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = g },
                _ => throw new ArgumentException($"Attribute {name} has an unsupported type."),
            });
        }

        _graph.Node.Add(node);
        return this;
    }

    /// <summary>The graph alone, to be an If node's branch.</summary>
    public GraphProto BuildGraph() => _graph;

    public byte[] Build()
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "cocoon-tests", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model.ToByteArray();
    }

    private static AttributeProto Ints(string name, long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static ValueInfoProto ValueInfo(string name, int elementType, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }
}
