using System.Runtime.InteropServices;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>Reads an ONNX TensorProto (initializers, Constant values) into a <see cref="Tensor"/>.</summary>
internal static class Initializers
{
    private const int Float = 1;
    private const int Int32 = 6;
    private const int Int64 = 7;
    private const int Bool = 9;

    /// <param name="raw">
    /// The tensor's raw bytes when the model reader read them aside (<see cref="ModelReader"/>): a
    /// float[] (a float32 tensor's values as they are) or a byte[]; null to read the proto's own fields.
    /// </param>
    public static Tensor Read(TensorProto t, Array? raw = null)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Dims.Any(d => d < 0 || d > int.MaxValue))
        {
            throw new ModelException($"tensor '{t.Name}' has an impossible shape.");
        }

        var shape = t.Dims.Select(d => (int)d).ToArray();
        var count = Tensor.CheckedCount(shape);
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new ModelException($"tensor '{t.Name}' keeps its data in an external file; embed it in the model.");
        }

        if (raw is float[] values && t.DataType == Float)
        {
            return values.Length == count ? new Tensor(shape, values) : throw new ModelException($"tensor '{t.Name}' holds {4L * values.Length} bytes; its shape needs {4 * count}.");
        }

        var bytes = raw switch
        {
            float[] floats => MemoryMarshal.AsBytes(floats.AsSpan()),
            byte[] data => data,
            _ => t.RawData.Span,
        };
        return t.DataType switch
        {
            Float => new Tensor(shape, bytes.Length > 0 ? Raw<float>(bytes, count, t.Name) : Listed(t.FloatData, count, t.Name)),
            Int64 => Tensor.OfLongs(shape, bytes.Length > 0 ? Raw<long>(bytes, count, t.Name) : Listed(t.Int64Data, count, t.Name)),
            Int32 => Tensor.OfLongs(shape, bytes.Length > 0 ? [.. Raw<int>(bytes, count, t.Name).Select(v => (long)v)] : [.. Listed(t.Int32Data, count, t.Name).Select(v => (long)v)]),
            Bool => Tensor.OfBools(shape, bytes.Length > 0 ? [.. Raw<byte>(bytes, count, t.Name).Select(v => v != 0)] : [.. Listed(t.Int32Data, count, t.Name).Select(v => v != 0)]),
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
