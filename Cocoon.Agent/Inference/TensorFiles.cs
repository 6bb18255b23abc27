using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cocoon.Agent.Inference;

/// <summary>
/// Named tensors in files, as `cocoon-agent infer` reads and writes them: NumPy's .npz (a zip of .npy
/// arrays, little-endian float32/float64/int32/int64/bool, C order) and safetensors (F32, F64, I32,
/// I64, BOOL). Doubles and 32-bit integers are read as float32 and int64.
/// </summary>
public static partial class TensorFiles
{
    private static readonly byte[] NpyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Dictionary<string, Tensor> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".npz" => ReadNpz(path),
            ".safetensors" => ReadSafetensors(File.ReadAllBytes(path)),
            _ => throw new ModelException($"{path}: use a .npz or .safetensors file."),
        };
    }

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".npz":
                WriteNpz(path, tensors);
                break;
            case ".safetensors":
                File.WriteAllBytes(path, WriteSafetensors(tensors));
                break;
            default:
                throw new ModelException($"{path}: use a .npz or .safetensors file.");
        }
    }

    public static Dictionary<string, Tensor> ReadNpz(string path)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)))
            {
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                tensors[entry.FullName[..^4]] = ReadNpy(buffer.ToArray(), entry.FullName);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new ModelException($"{path} is not an .npz file ({ex.Message}).");
        }

        return tensors;
    }

    public static void WriteNpz(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, tensor) in tensors)
        {
            using var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
            entry.Write(WriteNpy(tensor));
        }
    }

    public static Tensor ReadNpy(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(NpyMagic))
        {
            throw new ModelException($"{name} is not a .npy array.");
        }

        var major = bytes[6];
        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var start = major == 1 ? 10 : 12;
        if (start + headerLength > bytes.Length)
        {
            throw new ModelException($"{name}: the .npy header is cut short.");
        }

        var header = Encoding.Latin1.GetString(bytes, start, headerLength);
        var descr = NpyDescr().Match(header);
        var shapeMatch = NpyShape().Match(header);
        if (!descr.Success || !shapeMatch.Success)
        {
            throw new ModelException($"{name}: the .npy header is not one this agent reads.");
        }

        if (header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new ModelException($"{name}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray.");
        }

        var shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        return Decode(descr.Groups[1].Value switch
        {
            "<f4" => "F32",
            "<f8" => "F64",
            "<i4" => "I32",
            "<i8" => "I64",
            "|b1" => "BOOL",
            var other => throw new ModelException($"{name}: element type {other} is not supported (float32, float64, int32, int64 and bool are)."),
        }, shape, bytes.AsSpan(start + headerLength), name);
    }

    public static byte[] WriteNpy(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var descr = tensor.Type switch { ElementType.Float32 => "<f4", ElementType.Int64 => "<i8", _ => "|b1" };
        var dims = tensor.Rank == 1 ? $"{tensor.Shape[0]}," : string.Join(", ", tensor.Shape);
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        var padded = ((10 + header.Length + 1 + 63) / 64 * 64) - 10;
        header = header.PadRight(padded - 1) + "\n";
        byte[] prefix = [.. NpyMagic, 1, 0, (byte)(padded & 0xff), (byte)(padded >> 8)];
        return [.. prefix, .. Encoding.Latin1.GetBytes(header), .. Encode(tensor)];
    }

    public static Dictionary<string, Tensor> ReadSafetensors(byte[] bytes) =>
        ModelRuns.Safetensors.ReadHeader(bytes).ToDictionary(
            e => e.Name, e => Decode(e.DType, e.Shape, bytes.AsSpan((int)e.Start, (int)(e.End - e.Start)), e.Name), StringComparer.Ordinal);

    public static byte[] WriteSafetensors(IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        var data = new List<byte[]>();
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            var bytes = Encode(t);
            header[name] = new { dtype = t.Type switch { ElementType.Float32 => "F32", ElementType.Int64 => "I64", _ => "BOOL" }, shape = t.Shape, data_offsets = new[] { offset, offset + bytes.Length } };
            data.Add(bytes);
            offset += bytes.Length;
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var padded = (json.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        json.CopyTo(file, 8);
        file.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        var at = 8 + padded;
        foreach (var bytes in data)
        {
            bytes.CopyTo(file, at);
            at += bytes.Length;
        }

        return file;
    }

    private static Tensor Decode(string dtype, int[] shape, ReadOnlySpan<byte> data, string name)
    {
        var count = Tensor.ElementCount(shape);
        var size = dtype switch { "F32" or "I32" => 4, "F64" or "I64" => 8, "BOOL" => 1, _ => throw new ModelException($"tensor '{name}' is {dtype}; F32, F64, I32, I64 and BOOL are supported.") };
        if (shape.Any(d => d < 0) || data.Length < count * size)
        {
            throw new ModelException($"tensor '{name}' holds {data.Length} bytes; shape [{string.Join(", ", shape)}] needs {count * size}.");
        }

        data = data[..(int)(count * size)];
        return dtype switch
        {
            "F32" => new Tensor(shape, MemoryMarshal.Cast<byte, float>(data).ToArray()),
            "F64" => new Tensor(shape, [.. MemoryMarshal.Cast<byte, double>(data).ToArray().Select(v => (float)v)]),
            "I32" => Tensor.OfLongs(shape, [.. MemoryMarshal.Cast<byte, int>(data).ToArray().Select(v => (long)v)]),
            "I64" => Tensor.OfLongs(shape, MemoryMarshal.Cast<byte, long>(data).ToArray()),
            _ => Tensor.OfBools(shape, [.. data.ToArray().Select(b => b != 0)]),
        };
    }

    private static byte[] Encode(Tensor t) => t.Type switch
    {
        ElementType.Float32 => MemoryMarshal.AsBytes(t.Data.AsSpan()).ToArray(),
        ElementType.Int64 => MemoryMarshal.AsBytes(t.Longs.AsSpan()).ToArray(),
        _ => [.. t.Bools.Select(b => b ? (byte)1 : (byte)0)],
    };

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex NpyDescr();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex NpyShape();
}
