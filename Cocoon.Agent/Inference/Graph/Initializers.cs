using System.Runtime.InteropServices;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>
/// Reads an ONNX TensorProto (initializers, Constant values) into a <see cref="Tensor"/>. The engine
/// computes in three element types: float32 holds float16, bfloat16 and double values (rounded to
/// float32, as ONNX Runtime's float16 kernels compute in float32 too), int64 holds every integer type,
/// and bool.
/// </summary>
internal static class Initializers
{
    private const int Float = 1;
    private const int UInt8 = 2;
    private const int Int8 = 3;
    private const int UInt16 = 4;
    private const int Int16 = 5;
    private const int Int32 = 6;
    private const int Int64 = 7;
    private const int String = 8;
    private const int Bool = 9;
    private const int Float16 = 10;
    private const int Double = 11;
    private const int UInt32 = 12;
    private const int UInt64 = 13;
    private const int BFloat16 = 16;

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
            String => Tensor.OfStrings(shape, [.. Listed(t.StringData, count, t.Name).Select(b => b.ToStringUtf8())]),
            Double => new Tensor(shape, bytes.Length > 0 ? [.. Raw<double>(bytes, count, t.Name).Select(v => (float)v)] : [.. Listed(t.DoubleData, count, t.Name).Select(v => (float)v)]),

            // float16 and bfloat16 keep their bits in int32_data when not raw.
            Float16 => new Tensor(shape, [.. Bits(bytes, t, count).Select(b => (float)BitConverter.UInt16BitsToHalf(b))]),
            BFloat16 => new Tensor(shape, [.. Bits(bytes, t, count).Select(b => BitConverter.Int32BitsToSingle(b << 16))]),
            Int8 => Tensor.OfLongs(shape, bytes.Length > 0 ? [.. Raw<sbyte>(bytes, count, t.Name).Select(v => (long)v)] : [.. Listed(t.Int32Data, count, t.Name).Select(v => (long)(sbyte)v)]),
            UInt8 => Tensor.OfLongs(shape, bytes.Length > 0 ? [.. Raw<byte>(bytes, count, t.Name).Select(v => (long)v)] : [.. Listed(t.Int32Data, count, t.Name).Select(v => (long)(byte)v)]),
            Int16 => Tensor.OfLongs(shape, bytes.Length > 0 ? [.. Raw<short>(bytes, count, t.Name).Select(v => (long)v)] : [.. Listed(t.Int32Data, count, t.Name).Select(v => (long)(short)v)]),
            UInt16 => Tensor.OfLongs(shape, bytes.Length > 0 ? [.. Raw<ushort>(bytes, count, t.Name).Select(v => (long)v)] : [.. Listed(t.Int32Data, count, t.Name).Select(v => (long)(ushort)v)]),
            UInt32 => Tensor.OfLongs(shape, bytes.Length > 0 ? [.. Raw<uint>(bytes, count, t.Name).Select(v => (long)v)] : [.. Listed(t.Uint64Data, count, t.Name).Select(v => (long)(uint)v)]),
            UInt64 => Tensor.OfLongs(shape, bytes.Length > 0 ? [.. Raw<ulong>(bytes, count, t.Name).Select(v => unchecked((long)v))] : [.. Listed(t.Uint64Data, count, t.Name).Select(v => unchecked((long)v))]),
            _ => throw new ModelException($"tensor '{t.Name}' has ONNX data type {t.DataType}; float32, float16, bfloat16, double, the integer types, bool and string are supported."),
        };
    }

    /// <summary>The 16-bit patterns of a float16 or bfloat16 tensor.</summary>
    private static ushort[] Bits(ReadOnlySpan<byte> raw, TensorProto t, long count) =>
        raw.Length > 0 ? Raw<ushort>(raw, count, t.Name) : [.. Listed(t.Int32Data, count, t.Name).Select(v => (ushort)v)];

    private static T[] Raw<T>(ReadOnlySpan<byte> raw, long count, string name)
        where T : struct
    {
        var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (raw.Length != count * size)
        {
            throw new ModelException($"tensor '{name}' holds {raw.Length} bytes; its shape needs {count * size}.");
        }

        return MemoryMarshal.Cast<byte, T>(raw).ToArray();
    }

    private static T[] Listed<T>(IReadOnlyCollection<T> values, long count, string name) =>
        values.Count == count ? [.. values] : throw new ModelException($"tensor '{name}' holds {values.Count} values; its shape needs {count}.");
}
