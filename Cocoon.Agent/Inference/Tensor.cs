using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference;

/// <summary>
/// Element types the engine computes with (the values are ONNX's TensorProto.DataType codes), and
/// <see cref="Sequence"/>: ONNX's sequence of tensors, a value of its own kind that only the sequence
/// operators take.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "ONNX's own names for its element types.")]
public enum ElementType
{
    Float32 = 1,
    Int64 = 7,
    Bool = 9,

    /// <summary>UTF-8 text (<see cref="Tensor.Strings"/>), which only the string operators take.</summary>
    String = 8,

    /// <summary>A sequence of tensors (<see cref="Tensor.Items"/>), shaped [count]; not an ONNX element type.</summary>
    Sequence = 1000,
}

/// <summary>
/// A dense tensor in row-major order: float32 for data, int64 where shapes and indices need it, bool
/// for masks. Exactly one of <see cref="Data"/>, <see cref="Longs"/> and <see cref="Bools"/> holds the
/// elements; the others are empty. A float32 tensor made by a GPU kernel lives in device memory and is
/// copied to <see cref="Data"/> only when host code reads it. A float32 value the run's memory plan
/// placed in its arena is a region of that arena (<see cref="Values"/>), which the CPU kernels read in
/// place; <see cref="Data"/> gives such a value as an array of its own only by copying it.
/// </summary>
public sealed class Tensor
{
    private float[]? _data;

    /// <summary>The arena region holding a planned value's elements (null for a whole array).</summary>
    private readonly FloatBuffer? _region;

    public Tensor(int[] shape, float[] data)
        : this(shape, ElementType.Float32, data, [], [], data?.Length ?? 0)
    {
    }

    /// <summary>A float32 tensor held in device memory (made by a kernel during a GPU run).</summary>
    internal Tensor(int[] shape, DeviceBuffer device, float[]? data = null)
    {
        if (shape.Any(d => d < 0) || ElementCount(shape) != device.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] does not hold {device.Length} elements.");
        }

        Shape = shape;
        Type = ElementType.Float32;
        Device = device;
        _data = data;
        Longs = [];
        Bools = [];
    }

    /// <summary>A float32 tensor over <paramref name="values"/>: a whole array, or a region of the run's arena.</summary>
    internal Tensor(int[] shape, FloatBuffer values)
        : this(shape, ElementType.Float32, values.IsWholeArray ? values.Array : [], [], [], values.Length)
    {
        if (!values.IsWholeArray)
        {
            _data = null;
            _region = values;
        }
    }

    private Tensor(int[] shape, ElementType type, float[] data, long[] longs, bool[] bools, int length)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (shape.Any(d => d < 0) || ElementCount(shape) != length)
        {
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] does not hold {length} elements.");
        }

        Shape = shape;
        Type = type;
        _data = data;
        Longs = longs;
        Bools = bools;
    }

    public int[] Shape { get; }

    public ElementType Type { get; }

    /// <summary>
    /// The float32 elements as an array of their own (empty unless <see cref="Type"/> is Float32): copied
    /// from the device on first read when the tensor lives there, and out of the arena when the memory
    /// plan placed it in one (operators read <see cref="Values"/> instead).
    /// </summary>
    public float[] Data => _data ??= _region is { } region ? CopyOut(region) : Device!.Download();

    /// <summary>Where the float32 elements lie, read and written in place by the CPU kernels.</summary>
    internal FloatBuffer Values => _region ?? FloatBuffer.Of(Data);

    /// <summary>Whether the elements are a region of a run's arena rather than an array of their own.</summary>
    internal bool InArena => _region is not null;

    /// <summary>Device memory holding the elements, when a GPU kernel made this tensor.</summary>
    internal DeviceBuffer? Device { get; }

    /// <summary>The int64 elements (empty unless <see cref="Type"/> is Int64).</summary>
    public long[] Longs { get; }

    /// <summary>The bool elements (empty unless <see cref="Type"/> is Bool).</summary>
    public bool[] Bools { get; }

    public int Rank => Shape.Length;

    /// <summary>Number of elements.</summary>
    public int Length => (int)ElementCount(Shape);

    public static Tensor OfLongs(int[] shape, long[] values) => new(shape, ElementType.Int64, [], values, [], values.Length);

    public static Tensor OfBools(int[] shape, bool[] values) => new(shape, ElementType.Bool, [], [], values, values.Length);

    public static Tensor Scalar(float value) => new([], [value]);

    /// <summary>A sequence of tensors (ONNX's seq type): shaped [count], its tensors in <see cref="Items"/>.</summary>
    public static Tensor Sequence(IReadOnlyList<Tensor> items) => new([items.Count], ElementType.Sequence, [], [], [], items.Count) { Items = items };

    /// <summary>A tensor of strings.</summary>
    public static Tensor OfStrings(int[] shape, string[] values) => new(shape, ElementType.String, [], [], [], values.Length) { Strings = values };

    /// <summary>The strings (empty unless <see cref="Type"/> is String).</summary>
    public IReadOnlyList<string> Strings { get; private init; } = [];

    /// <summary>The tensors of a sequence (empty unless <see cref="Type"/> is Sequence).</summary>
    public IReadOnlyList<Tensor> Items { get; private init; } = [];

    /// <summary>Most elements one tensor may hold (1 GiB of float32): a model asking for more is refused, not run out of memory.</summary>
    public const long MaxElements = 1L << 28;

    /// <summary>The element count of a tensor about to be made, refused with a <see cref="ModelException"/> past <see cref="MaxElements"/>.</summary>
    public static int CheckedCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ModelException($"a dimension of {d} is impossible.");
            }

            count *= d;
            if (count > MaxElements)
            {
                throw new ModelException($"a tensor of shape [{string.Join(", ", shape.ToArray())}] would exceed {MaxElements:N0} elements.");
            }
        }

        return (int)count;
    }

    /// <summary>The element count of a shape; a shape whose count does not fit 64 bits is refused (a product that wrapped could pass for a small one).</summary>
    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            try
            {
                count = checked(count * d);
            }
            catch (OverflowException)
            {
                throw new ModelException($"a shape of [{string.Join(", ", shape.ToArray())}] holds more elements than any tensor can.");
            }
        }

        return count;
    }

    /// <summary>The elements as int64 (int64 tensors as they are; float and bool converted), for shape and index inputs.</summary>
    public long[] AsLongs() => Type switch
    {
        ElementType.Int64 => Longs,
        ElementType.Float32 => [.. Data.Select(v => (long)v)],
        _ => [.. Bools.Select(b => b ? 1L : 0L)],
    };

    /// <summary>The same elements under another shape of the same size.</summary>
    public Tensor Reshaped(int[] shape) => Device is { } device
        ? new Tensor(shape, device, _data)
        : _region is { } region ? new Tensor(shape, region) : new Tensor(shape, Type, Data, Longs, Bools, Length);

    /// <summary>A tensor of this one's type from element indices into it (the workhorse of every data-movement op).</summary>
    public Tensor Gather(int[] shape, int[] indices) => Type switch
    {
        ElementType.Float32 => new Tensor(shape, Pick<float>(Values.Span, indices)),
        ElementType.Int64 => OfLongs(shape, Pick(Longs, indices)),
        _ => OfBools(shape, Pick(Bools, indices)),
    };

    /// <summary>A tensor of this type made of runs copied from sources in order (used by Concat).</summary>
    internal static Tensor Join(ElementType type, int[] shape, IReadOnlyList<(Tensor Source, int Offset, int Count)> blocks)
    {
        var length = CheckedCount(shape);
        return type switch
        {
            ElementType.Float32 => new Tensor(shape, CopyFloats(blocks, length)),
            ElementType.Int64 => OfLongs(shape, Copy(blocks, t => t.Longs, length)),
            _ => OfBools(shape, Copy(blocks, t => t.Bools, length)),
        };
    }

    private static T[] Copy<T>(IReadOnlyList<(Tensor Source, int Offset, int Count)> blocks, Elements<T> of, int length)
    {
        var values = new T[length];
        var at = 0;
        foreach (var (source, offset, count) in blocks)
        {
            of(source).Slice(offset, count).CopyTo(values.AsSpan(at, count));
            at += count;
        }

        return values;
    }

    private delegate Span<T> Elements<T>(Tensor t);

    /// <summary>The blocks copied in order into a buffer of the run's memory (every element written, so it is not cleared first).</summary>
    private static FloatBuffer CopyFloats(IReadOnlyList<(Tensor Source, int Offset, int Count)> blocks, int length)
    {
        if (blocks.Sum(b => (long)b.Count) != length)
        {
            throw new ArgumentException($"the blocks hold {blocks.Sum(b => (long)b.Count)} elements, not {length}.");
        }

        var values = Buffers.Overwritten(length);
        var at = 0;
        foreach (var (source, offset, count) in blocks)
        {
            source.Values.Span.Slice(offset, count).CopyTo(values.Span.Slice(at, count));
            at += count;
        }

        return values;
    }

    private static float[] CopyOut(FloatBuffer region)
    {
        region.Arena?.CountCopy();
        return region.Span.ToArray();
    }

    private static T[] Pick<T>(ReadOnlySpan<T> source, int[] indices)
    {
        var values = new T[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            values[i] = source[indices[i]];
        }

        return values;
    }

    public override string ToString() => $"{Type} [{string.Join(", ", Shape)}]";
}
