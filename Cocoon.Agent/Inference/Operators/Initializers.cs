using System.Runtime.InteropServices;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>Reads an ONNX TensorProto (initializers, Constant values) into a <see cref="Tensor"/>.</summary>
internal static class Initializers
{
    private const int Float = 1;
    private const int Int32 = 6;
    private const int Int64 = 7;
    private const int Bool = 9;

    public static Tensor Read(TensorProto t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Dims.Any(d => d < 0 || d > int.MaxValue))
        {
            throw new ModelException($"tensor '{t.Name}' has an impossible shape.");
        }

        var shape = t.Dims.Select(d => (int)d).ToArray();
        var count = Tensor.ElementCount(shape);
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new ModelException($"tensor '{t.Name}' keeps its data in an external file; embed it in the model.");
        }

        var raw = t.RawData.Span;
        return t.DataType switch
        {
            Float => new Tensor(shape, raw.Length > 0 ? Raw<float>(raw, count, t.Name) : Listed(t.FloatData, count, t.Name)),
            Int64 => Tensor.OfLongs(shape, raw.Length > 0 ? Raw<long>(raw, count, t.Name) : Listed(t.Int64Data, count, t.Name)),
            Int32 => Tensor.OfLongs(shape, raw.Length > 0 ? [.. Raw<int>(raw, count, t.Name).Select(v => (long)v)] : [.. Listed(t.Int32Data, count, t.Name).Select(v => (long)v)]),
            Bool => Tensor.OfBools(shape, raw.Length > 0 ? [.. Raw<byte>(raw, count, t.Name).Select(v => v != 0)] : [.. Listed(t.Int32Data, count, t.Name).Select(v => v != 0)]),
            _ => throw new ModelException($"tensor '{t.Name}' has ONNX data type {t.DataType}; float32, int64, int32 and bool are supported."),
        };
    }

    private static T[] Raw<T>(ReadOnlySpan<byte> raw, long count, string name)
        where T : struct
    {
        var size = Marshal.SizeOf<T>();
        if (raw.Length != count * size)
        {
            throw new ModelException($"tensor '{name}' holds {raw.Length} bytes; its shape needs {count * size}.");
        }

        return MemoryMarshal.Cast<byte, T>(raw).ToArray();
    }

    private static T[] Listed<T>(IReadOnlyCollection<T> values, long count, string name) =>
        values.Count == count ? [.. values] : throw new ModelException($"tensor '{name}' holds {values.Count} values; its shape needs {count}.");
}
