using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>Builds ONNX models as protobuf in tests (shared with the portal's end-to-end tests by a linked file).</summary>
internal sealed class OnnxBuilder(long opset = 17)
{
    private readonly GraphProto _graph = new() { Name = "test" };

    public OnnxBuilder Input(string name, params object[] dims) => Typed(name, 1, dims);

    public OnnxBuilder Output(string name, params object[] dims)
    {
        _graph.Output.Add(ValueInfo(name, 1, dims));
        return this;
    }

    /// <summary>An input of ONNX element type <paramref name="elementType"/> (1 float, 7 int64, 9 bool).</summary>
    public OnnxBuilder Typed(string name, int elementType, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, elementType, dims));
        return this;
    }

    /// <summary>An output whose type and shape are left to the runtime to infer.</summary>
    public OnnxBuilder AnyOutput(string name)
    {
        _graph.Output.Add(new ValueInfoProto { Name = name });
        return this;
    }

    public OnnxBuilder Longs(string name, int[] shape, long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 7 };
        tensor.Dims.AddRange(shape.Select(d => (long)d));
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return this;
    }

    public OnnxBuilder Initializer(string name, int[] shape, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        tensor.Dims.AddRange(shape.Select(d => (long)d));
        _graph.Initializer.Add(tensor);
        return this;
    }

    public OnnxBuilder Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes) =>
        Node(op, inputs, [output], attributes);

    public OnnxBuilder Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
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
                string text => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(text) },
                TensorProto t => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = t },
                _ => throw new ArgumentException($"Attribute {name} has an unsupported type."),
            });
        }

        _graph.Node.Add(node);
        return this;
    }

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

    /// <summary>
    /// A two-layer perceptron y = sigmoid(relu(x·W1 + b1)·W2 + b2) with seeded weights, and the same
    /// function in plain C# (double accumulation) to check any engine's output against.
    /// </summary>
    public static (byte[] Model, Func<float[], int, float[]> Reference) Mlp(int inputs, int hidden, int outputs, int seed)
    {
        var random = new Random(seed);
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        var w1 = Values(inputs * hidden);
        var b1 = Values(hidden);
        var w2 = Values(hidden * outputs);
        var b2 = Values(outputs);
        var model = new OnnxBuilder()
            .Input("x", "rows", inputs)
            .Output("y", "rows", outputs)
            .Initializer("w1", [inputs, hidden], w1)
            .Initializer("b1", [hidden], b1)
            .Initializer("w2", [hidden, outputs], w2)
            .Initializer("b2", [outputs], b2)
            .Node("MatMul", ["x", "w1"], "h0")
            .Node("Add", ["h0", "b1"], "h1")
            .Node("Relu", ["h1"], "h2")
            .Node("Gemm", ["h2", "w2", "b2"], "z")
            .Node("Sigmoid", ["z"], "y")
            .Build();

        float[] Reference(float[] x, int rows)
        {
            var y = new float[rows * outputs];
            var h = new double[hidden];
            for (var r = 0; r < rows; r++)
            {
                for (var j = 0; j < hidden; j++)
                {
                    double sum = b1[j];
                    for (var i = 0; i < inputs; i++)
                    {
                        sum += (double)x[(r * inputs) + i] * w1[(i * hidden) + j];
                    }

                    h[j] = Math.Max(sum, 0);
                }

                for (var k = 0; k < outputs; k++)
                {
                    double sum = b2[k];
                    for (var j = 0; j < hidden; j++)
                    {
                        sum += h[j] * w2[(j * outputs) + k];
                    }

                    y[(r * outputs) + k] = (float)(1 / (1 + Math.Exp(-sum)));
                }
            }

            return y;
        }

        return (model, Reference);
    }
}
