using Cocoon.Agent.Inference.Operators;
using Google.Protobuf;
using Onnx;

namespace Cocoon.Agent.Tests.Inference.Fuzzing;

/// <summary>
/// Semantic mutations of an ONNX model, below which a parser fuzzer does not reach: attribute values
/// (including ones the operator does not have and the engine's own fusion attributes), initializer
/// dimensions, element types and lengths, graph input shapes, and the graph's wiring. Each mutant is a
/// valid protobuf the loader must either refuse with a model error or run without reading memory it was
/// not given. Seeded: the same seed gives the same mutants.
/// </summary>
internal sealed class ModelMutator(int seed)
{
    private static readonly long[] Ints = [-65536, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 16, 65536, int.MaxValue, long.MaxValue, long.MinValue];
    private static readonly float[] Floats = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -1, 0, 0.5f, 1, 3, 1e30f];
    private static readonly string[] Strings = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "nearest", "linear", "cubic", "constant", "reflect", "edge", "wrap", "tanh", "none", "Relu", "Gelu", "", "garbage"];
    private static readonly string[] ExtraAttributes = ["cocoon.pool", "cocoon.activation", "cocoon.scale", "kernel_shape", "axis", "axes", "perm", "group", "pads", "strides", "no_such_attribute"];
    private static readonly int[] DataTypes = [1, 6, 7, 9, 10, 11, 16];

    private readonly Random _random = new(seed);

    /// <summary>One to three mutations of <paramref name="model"/>, with what they were.</summary>
    public (byte[] Bytes, string Description) Mutate(ModelProto model)
    {
        var mutant = model.Clone();
        var steps = new List<string>();
        for (var i = _random.Next(10) < 7 ? 1 : 2; i > 0; i--)
        {
            steps.Add(MutateOnce(mutant.Graph));
        }

        return (mutant.ToByteArray(), string.Join("; ", steps));
    }

    private string MutateOnce(GraphProto graph)
    {
        var node = graph.Node[_random.Next(graph.Node.Count)];
        var name = $"{node.OpType} '{node.Name}'";
        // Weighted towards the mutations a loader cannot refuse by looking at one field.
        int[] weights = [30, 8, 10, 4, 4, 16, 16, 12, 14];
        var roll = _random.Next(weights.Sum());
        var kind = 0;
        while (roll >= weights[kind])
        {
            roll -= weights[kind++];
        }

        switch (kind)
        {
            case 0 when node.Attribute.Count > 0:
                {
                    var attribute = node.Attribute[_random.Next(node.Attribute.Count)];
                    SetValue(attribute, attribute.Type);
                    return $"{name}: {attribute.Name} = {Show(attribute)}";
                }

            case 1:
                {
                    var declared = OperatorCatalog.Find(node.OpType)?.Attributes.Select(a => a.Name) ?? [];
                    var names = declared.Concat(ExtraAttributes).ToList();
                    var attribute = new AttributeProto { Name = names[_random.Next(names.Count)] };
                    if (node.Attribute.FirstOrDefault(a => a.Name == attribute.Name) is { } existing)
                    {
                        node.Attribute.Remove(existing);
                    }

                    var types = new[] { AttributeProto.Types.AttributeType.Int, AttributeProto.Types.AttributeType.Ints, AttributeProto.Types.AttributeType.Float, AttributeProto.Types.AttributeType.String };
                    SetValue(attribute, OperatorCatalog.Find(node.OpType)?.Attributes.FirstOrDefault(a => a.Name == attribute.Name)?.Type ?? types[_random.Next(types.Length)]);
                    node.Attribute.Add(attribute);
                    return $"{name}: added {attribute.Name} = {Show(attribute)}";
                }

            case 2 when graph.Initializer.Count > 0:
                {
                    var t = graph.Initializer[_random.Next(graph.Initializer.Count)];
                    if (t.Dims.Count == 0 || _random.Next(4) == 0)
                    {
                        t.Dims.Add(Pick([0, 1, 2, 65536]));
                    }
                    else
                    {
                        t.Dims[_random.Next(t.Dims.Count)] = Pick([0, 1, 2, 3, 9, 65536, -1, long.MaxValue]);
                    }

                    return $"initializer '{t.Name}': dims [{string.Join(", ", t.Dims)}]";
                }

            case 3 when graph.Initializer.Count > 0:
                {
                    var t = graph.Initializer[_random.Next(graph.Initializer.Count)];
                    t.DataType = DataTypes[_random.Next(DataTypes.Length)];
                    return $"initializer '{t.Name}': data type {t.DataType}";
                }

            case 4 when graph.Initializer.Count > 0:
                {
                    var t = graph.Initializer[_random.Next(graph.Initializer.Count)];
                    if (!t.RawData.IsEmpty)
                    {
                        var bytes = t.RawData.ToByteArray();
                        var length = _random.Next(2) == 0 ? bytes.Length / 2 : bytes.Length + 4;
                        Array.Resize(ref bytes, length);
                        t.RawData = ByteString.CopyFrom(bytes);
                        return $"initializer '{t.Name}': {length} raw bytes";
                    }

                    if (t.FloatData.Count > 0)
                    {
                        t.FloatData.RemoveAt(t.FloatData.Count - 1);
                    }
                    else
                    {
                        t.Int64Data.Add(7);
                    }

                    return $"initializer '{t.Name}': one value more or less";
                }

            case 5 when graph.Input.Count > 0:
                {
                    var input = graph.Input[_random.Next(graph.Input.Count)];
                    if (input.Type?.TensorType is { } tensor)
                    {
                        if (_random.Next(3) == 0)
                        {
                            tensor.ElemType = DataTypes[_random.Next(DataTypes.Length)];
                        }
                        else if (tensor.Shape is { Dim.Count: > 0 } shape)
                        {
                            shape.Dim[_random.Next(shape.Dim.Count)] = new TensorShapeProto.Types.Dimension { DimValue = Pick([0, 1, 2, 5, 65536, -1]) };
                        }
                    }

                    return $"input '{input.Name}': {input.Type}";
                }

            case 6:
                {
                    var values = graph.Initializer.Select(t => t.Name).Concat(graph.Input.Select(i => i.Name)).Concat(graph.Node.SelectMany(n => n.Output)).Distinct().ToList();
                    if (node.Input.Count > 0 && _random.Next(3) > 0)
                    {
                        var at = _random.Next(node.Input.Count);
                        node.Input[at] = _random.Next(5) == 0 ? "" : values[_random.Next(values.Count)];
                        return $"{name}: input {at} ← '{node.Input[at]}'";
                    }

                    node.Input.Add(values[_random.Next(values.Count)]);
                    return $"{name}: extra input '{node.Input[^1]}'";
                }

            case 8 when graph.Initializer.Any(t => t.DataType == 7 && (t.Int64Data.Count > 0 || t.RawData.Length >= 8)):
                {
                    // An int64 value (a Reshape target, Slice bounds, pads, split sizes, repeats, indices).
                    var candidates = graph.Initializer.Where(t => t.DataType == 7 && (t.Int64Data.Count > 0 || t.RawData.Length >= 8)).ToList();
                    var t = candidates[_random.Next(candidates.Count)];
                    long[] values = t.Int64Data.Count > 0 ? [.. t.Int64Data] : [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(t.RawData.Span)];
                    var at = _random.Next(values.Length);
                    values[at] = _random.Next(3) == 0 ? Pick(Ints) : Pick([-1, 0, 1, 2, 3, (1L << 31) - 1, 1L << 31, 1L << 32, -(1L << 31)]);
                    t.Int64Data.Clear();
                    t.RawData = ByteString.Empty;
                    t.Int64Data.AddRange(values);
                    return $"initializer '{t.Name}': value {at} = {values[at]}";
                }

            case 7:
                {
                    var ops = OperatorCatalog.All.Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
                    var was = node.OpType;
                    node.OpType = ops[_random.Next(ops.Count)];
                    return $"{was} '{node.Name}' became {node.OpType}";
                }
        }

        // The chosen mutation did not apply to this graph: a value change on a numeric attribute instead.
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = Pick(Ints) });
        return $"{name}: axis = {node.Attribute[^1].I}";
    }

    private void SetValue(AttributeProto attribute, AttributeProto.Types.AttributeType type)
    {
        attribute.Type = type;
        attribute.Ints.Clear();
        attribute.Floats.Clear();
        switch (type)
        {
            case AttributeProto.Types.AttributeType.Int:
                attribute.I = _random.Next(2) == 0 ? Pick(Ints) : _random.Next(-2, 4);
                break;
            case AttributeProto.Types.AttributeType.Ints:
                for (var i = _random.Next(0, 6); i > 0; i--)
                {
                    attribute.Ints.Add(_random.Next(3) == 0 ? Pick(Ints) : _random.Next(-2, 5));
                }

                break;
            case AttributeProto.Types.AttributeType.Float:
                attribute.F = Floats[_random.Next(Floats.Length)];
                break;
            case AttributeProto.Types.AttributeType.Floats:
                attribute.Floats.Add(Floats[_random.Next(Floats.Length)]);
                break;
            case AttributeProto.Types.AttributeType.Tensor:
                attribute.T = new TensorProto { DataType = 1, Dims = { Pick([0, 1, 2, 65536]) }, FloatData = { 1f, 2f } };
                break;
            default:
                attribute.Type = AttributeProto.Types.AttributeType.String;
                attribute.S = ByteString.CopyFromUtf8(Strings[_random.Next(Strings.Length)]);
                break;
        }
    }

    private long Pick(long[] choices) => choices[_random.Next(choices.Length)];

    private static string Show(AttributeProto a) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Int => a.I.ToString(System.Globalization.CultureInfo.InvariantCulture),
        AttributeProto.Types.AttributeType.Ints => $"[{string.Join(", ", a.Ints)}]",
        AttributeProto.Types.AttributeType.Float => a.F.ToString(System.Globalization.CultureInfo.InvariantCulture),
        AttributeProto.Types.AttributeType.String => $"'{a.S.ToStringUtf8()}'",
        _ => a.Type.ToString(),
    };
}
