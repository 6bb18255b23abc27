using System.Buffers.Binary;
using System.Numerics;

namespace Cocoon.Shared.Ton;

/// <summary>
/// The bag-of-cells serialisation (TON's <c>serialized_boc</c>): parsing with every field checked
/// against the input's length and the given limits, and writing in the generic format.
/// </summary>
public static class BagOfCells
{
    private const uint GenericMagic = 0xb5ee9c72;
    private const uint IndexedMagic = 0x68ff65f3;
    private const uint IndexedCrcMagic = 0xacc3a728;

    /// <summary>Parses a bag of cells and returns its roots. Throws <see cref="TonFormatException"/> with code <c>bad_boc</c>.</summary>
    public static IReadOnlyList<Cell> Parse(ReadOnlySpan<byte> boc, BagOfCellsLimits? limits = null)
    {
        limits ??= new BagOfCellsLimits();
        if (boc.Length > limits.MaxBytes)
        {
            throw Bad($"The bag of cells is {boc.Length} bytes; at most {limits.MaxBytes} are accepted.");
        }

        var reader = new Reader(boc);
        var magic = reader.UInt(4);
        bool hasIndex, hasCrc;
        int size;
        if (magic == GenericMagic)
        {
            var flags = reader.Byte();
            hasIndex = (flags & 0x80) != 0;
            hasCrc = (flags & 0x40) != 0;
            if ((flags & 0x18) != 0)
            {
                throw Bad("The bag of cells sets reserved flag bits.");
            }

            size = flags & 7;
        }
        else if (magic is IndexedMagic or IndexedCrcMagic)
        {
            hasIndex = true;
            hasCrc = magic == IndexedCrcMagic;
            size = reader.Byte() & 7;
        }
        else
        {
            throw Bad("This is not a bag of cells: the magic number is wrong.");
        }

        if (hasCrc)
        {
            if (boc.Length < 4 + 4)
            {
                throw Bad("The bag of cells is too short to hold its checksum.");
            }

            var body = boc[..^4];
            if (TonChecksums.Crc32C(body) != BinaryPrimitives.ReadUInt32LittleEndian(boc[^4..]))
            {
                throw Bad("The bag of cells fails its CRC32C check: it was damaged or cut.");
            }

            reader = new Reader(body) { Position = reader.Position };
        }

        var offsetSize = reader.Byte();
        if (size is < 1 or > 4 || offsetSize is < 1 or > 8)
        {
            throw Bad("The bag of cells has an invalid reference or offset size.");
        }

        var cellCount = Count(reader.UInt(size), limits.MaxCells, "cells");
        var rootCount = Count(reader.UInt(size), cellCount, "roots");
        var absent = reader.UInt(size);
        var totalCellBytes = reader.ULong(offsetSize);
        if (absent != 0)
        {
            throw Bad("Bags of cells with absent cells are not accepted.");
        }

        if (rootCount == 0)
        {
            throw Bad("The bag of cells has no root.");
        }

        var roots = new int[rootCount];
        for (var i = 0; i < rootCount; i++)
        {
            roots[i] = magic == GenericMagic ? Index(reader.UInt(size), cellCount) : i;
        }

        if (hasIndex)
        {
            reader.Skip((long)cellCount * offsetSize);
        }

        if (totalCellBytes != (ulong)reader.Remaining)
        {
            throw Bad("The bag of cells' length does not match the size it declares.");
        }

        var cells = ReadCells(ref reader, cellCount, size, limits);
        return roots.Select(r => cells[r]).ToArray();
    }

    /// <summary>Parses a bag of cells that must hold exactly one root.</summary>
    public static Cell ParseSingleRoot(ReadOnlySpan<byte> boc, BagOfCellsLimits? limits = null)
    {
        var roots = Parse(boc, limits);
        return roots.Count == 1 ? roots[0] : throw Bad($"Expected one root cell; the bag of cells has {roots.Count}.");
    }

    private static Cell[] ReadCells(ref Reader reader, int cellCount, int size, BagOfCellsLimits limits)
    {
        var layouts = new (byte D1, byte[] Data, int Bits, int[] Refs)[cellCount];
        for (var i = 0; i < cellCount; i++)
        {
            var d1 = reader.Byte();
            var d2 = reader.Byte();
            var refCount = d1 & 7;
            var levelMask = d1 >> 5;
            if (refCount > Cell.MaxRefs)
            {
                throw Bad($"Cell {i} declares {refCount} references; at most 4 are allowed.");
            }

            if (levelMask != 0)
            {
                throw Bad($"Cell {i} has a non-zero level (pruned or Merkle cells are not accepted here).");
            }

            if ((d1 & 16) != 0)
            {
                reader.Skip((BitOperations.PopCount((uint)levelMask) + 1) * (32 + 2));
            }

            var data = reader.Bytes((d2 + 1) / 2).ToArray();
            var bits = data.Length * 8;
            if ((d2 & 1) != 0)
            {
                var last = data[^1];
                if (last == 0)
                {
                    throw Bad($"Cell {i} lacks the completion tag its descriptor promises.");
                }

                var tag = BitOperations.TrailingZeroCount(last);
                bits -= tag + 1;
                data[^1] = (byte)(last & ~(1 << tag));
            }

            if (bits > Cell.MaxBits)
            {
                throw Bad($"Cell {i} holds more than {Cell.MaxBits} bits.");
            }

            var refs = new int[refCount];
            for (var r = 0; r < refCount; r++)
            {
                refs[r] = Index(reader.UInt(size), cellCount);
                if (refs[r] <= i)
                {
                    throw Bad($"Cell {i} refers back to cell {refs[r]}: a reference cycle, or cells out of order.");
                }
            }

            layouts[i] = (d1, data, bits, refs);
        }

        if (reader.Remaining != 0)
        {
            throw Bad("The bag of cells has bytes after its last cell.");
        }

        // References always point forward, so building from the end means every child exists already.
        var cells = new Cell[cellCount];
        for (var i = cellCount - 1; i >= 0; i--)
        {
            var (d1, data, bits, refs) = layouts[i];
            var type = CellType.Ordinary;
            if ((d1 & 8) != 0)
            {
                if (bits < 8)
                {
                    throw Bad($"Exotic cell {i} has no type byte.");
                }

                type = data[0] switch
                {
                    (byte)CellType.Library => CellType.Library,
                    _ => throw Bad($"Cell {i} is an exotic cell of type {data[0]}; only library cells are accepted here."),
                };
            }

            var trimmed = data.AsSpan(0, (bits + 7) / 8);
            cells[i] = new Cell(trimmed, bits, refs.Select(r => cells[r]).ToArray(), type);
            if (cells[i].Depth > limits.MaxDepth)
            {
                throw Bad($"The cell tree is deeper than {limits.MaxDepth}.");
            }
        }

        return cells;
    }

    /// <summary>Writes one root in the generic format, with CRC32C and without an index.</summary>
    public static byte[] Serialize(Cell root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var order = new List<Cell>();
        var index = new Dictionary<Cell, int>(ReferenceEqualityComparer.Instance);
        TopologicalOrder(root, order, [], index);
        order.Reverse();
        for (var i = 0; i < order.Count; i++)
        {
            index[order[i]] = i;
        }

        var size = order.Count < 256 ? 1 : order.Count < 65536 ? 2 : 3;
        using var cellBytes = new MemoryStream();
        foreach (var cell in order)
        {
            var (d1, d2) = cell.Descriptors();
            cellBytes.WriteByte(d1);
            cellBytes.WriteByte(d2);
            var data = cell.Data.ToArray();
            if (cell.BitLength % 8 != 0)
            {
                data[^1] |= (byte)(1 << (7 - (cell.BitLength % 8)));
            }

            cellBytes.Write(data);
            foreach (var child in cell.Refs)
            {
                WriteUInt(cellBytes, (ulong)index[child], size);
            }
        }

        var offsetSize = Math.Max(1, (int)Math.Ceiling((64 - BitOperations.LeadingZeroCount((ulong)cellBytes.Length)) / 8.0));
        using var output = new MemoryStream();
        WriteUInt(output, GenericMagic, 4);
        output.WriteByte((byte)(0x40 | size));
        output.WriteByte((byte)offsetSize);
        WriteUInt(output, (ulong)order.Count, size);
        WriteUInt(output, 1, size);
        WriteUInt(output, 0, size);
        WriteUInt(output, (ulong)cellBytes.Length, offsetSize);
        WriteUInt(output, 0, size);
        cellBytes.WriteTo(output);
        var crc = TonChecksums.Crc32C(output.ToArray());
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crcBytes, crc);
        output.Write(crcBytes);
        return output.ToArray();
    }

    private static void TopologicalOrder(Cell cell, List<Cell> order, HashSet<Cell> seen, Dictionary<Cell, int> index)
    {
        // Post-order: children first, so reversing puts every parent before its children.
        if (!seen.Add(cell))
        {
            return;
        }

        foreach (var child in cell.Refs)
        {
            TopologicalOrder(child, order, seen, index);
        }

        order.Add(cell);
    }

    private static void WriteUInt(Stream stream, ulong value, int bytes)
    {
        for (var i = bytes - 1; i >= 0; i--)
        {
            stream.WriteByte((byte)(value >> (8 * i)));
        }
    }

    private static int Count(uint value, int max, string what) =>
        value <= (uint)max ? (int)value : throw Bad($"The bag of cells declares {value} {what}; at most {max} are accepted.");

    private static int Index(uint value, int cellCount) =>
        value < (uint)cellCount ? (int)value : throw Bad("A reference points past the last cell.");

    private static TonFormatException Bad(string message) => new("bad_boc", message);

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; set; }

        public readonly int Remaining => _data.Length - Position;

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (count < 0 || count > Remaining)
            {
                throw Bad("The bag of cells ends early.");
            }

            var span = _data.Slice(Position, count);
            Position += count;
            return span;
        }

        public void Skip(long count)
        {
            if (count < 0 || count > Remaining)
            {
                throw Bad("The bag of cells ends early.");
            }

            Position += (int)count;
        }

        public byte Byte() => Bytes(1)[0];

        public uint UInt(int bytes) => (uint)ULong(bytes);

        public ulong ULong(int bytes)
        {
            ulong value = 0;
            foreach (var b in Bytes(bytes))
            {
                value = (value << 8) | b;
            }

            return value;
        }
    }
}
