using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Cocoon.Agent.Inference;

namespace Cocoon.Agent.ModelRuns;

/// <summary>One tensor of a safetensors file: where its bytes lie, counted from the start of the file.</summary>
public sealed record SafetensorsEntry(string Name, string DType, int[] Shape, long Start, long End)
{
    /// <summary>Bytes of one row (everything after the first dimension).</summary>
    public long RowBytes => Shape.Length == 0 ? 0 : (End - Start) / Math.Max(Shape[0], 1);
}

/// <summary>
/// The safetensors format (8-byte little-endian header length, JSON header, tensor bytes), read
/// piecemeal: the header parsed so that one row range of every tensor can be located and read through
/// a sealed file's range reader. Whole files are read and written by <see cref="TensorFiles"/>.
/// </summary>
public static class Safetensors
{
    /// <summary>Largest header this agent reads.</summary>
    public const int MaxHeaderBytes = 16 << 20;

    /// <summary>Reads the header through <paramref name="read"/> (plaintext offset, length) and lists the tensors.</summary>
    public static async Task<IReadOnlyList<SafetensorsEntry>> ReadHeaderAsync(Func<long, int, Task<byte[]>> read, long fileLength)
    {
        ArgumentNullException.ThrowIfNull(read);
        var headerLength = HeaderLength(fileLength < 8 ? [] : await read(0, 8), fileLength);
        return ParseHeader(await read(8, headerLength), fileLength);
    }

    /// <summary>Reads a whole safetensors file's header from its bytes.</summary>
    public static IReadOnlyList<SafetensorsEntry> ReadHeader(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var headerLength = HeaderLength(file.AsSpan(0, Math.Min(8, file.Length)), file.Length);
        return ParseHeader(file.AsMemory(8, headerLength), file.Length);
    }

    private static int HeaderLength(ReadOnlySpan<byte> first8, long fileLength)
    {
        if (first8.Length < 8)
        {
            throw new ModelException("This is not a safetensors file (too short).");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(first8);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || 8 + (long)headerLength > fileLength)
        {
            throw new ModelException("This is not a safetensors file (bad header length).");
        }

        return (int)headerLength;
    }

    /// <summary>Parses the JSON header that starts at byte 8 of a file of <paramref name="fileLength"/> bytes.</summary>
    private static List<SafetensorsEntry> ParseHeader(ReadOnlyMemory<byte> json, long fileLength)
    {
        var dataStart = 8 + (long)json.Length;
        var entries = new List<SafetensorsEntry>();
        try
        {
            using var document = JsonDocument.Parse(json);
            foreach (var property in document.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
            {
                var t = property.Value;
                var shape = t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                var offsets = t.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || dataStart + offsets[1] > fileLength || shape.Any(d => d < 0))
                {
                    throw new ModelException($"The safetensors tensor '{property.Name}' lies outside the file.");
                }

                entries.Add(new SafetensorsEntry(property.Name, t.GetProperty("dtype").GetString() ?? "", shape, dataStart + offsets[0], dataStart + offsets[1]));
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelException($"The safetensors header is malformed ({ex.Message}).");
        }

        return entries;
    }

    /// <summary>Rows [first, first + count) of a float32 tensor as a tensor of shape [count, ...].</summary>
    public static async Task<Tensor> ReadRowsAsync(SafetensorsEntry entry, long first, int count, Func<long, int, Task<byte[]>> read)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(read);
        if (entry.DType != "F32")
        {
            throw new ModelException($"The dataset's tensor '{entry.Name}' is {entry.DType}; models take F32 inputs.");
        }

        if (entry.Shape.Length == 0 || first < 0 || first + count > entry.Shape[0])
        {
            throw new ModelException($"Rows {first}..{first + count} are outside the dataset's tensor '{entry.Name}' of shape [{string.Join(", ", entry.Shape)}].");
        }

        var rowFloats = Tensor.ElementCount(entry.Shape.AsSpan(1));
        if (rowFloats * sizeof(float) * entry.Shape[0] != entry.End - entry.Start)
        {
            throw new ModelException($"The dataset's tensor '{entry.Name}' has {entry.End - entry.Start} bytes, which does not fit its shape.");
        }

        var bytes = await read(entry.Start + (first * rowFloats * sizeof(float)), checked((int)(count * rowFloats * sizeof(float))));
        var data = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
        return new Tensor([count, .. entry.Shape[1..]], data);
    }
}
