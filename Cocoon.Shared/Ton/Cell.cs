using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cocoon.Shared.Ton;

/// <summary>
/// A TON cell: up to 1023 bits of data and up to four references. Immutable; its representation
/// hash and depth are computed once when it is built, from its children's, so a tree is hashed in
/// one pass. Cells of level 0 only (ordinary and library cells): pruned branches and Merkle cells
/// never occur in wallet state and are refused by the parser.
/// </summary>
public sealed class Cell
{
    /// <summary>The most data bits a cell holds.</summary>
    public const int MaxBits = 1023;

    /// <summary>The most references a cell holds.</summary>
    public const int MaxRefs = 4;

    private readonly byte[] _data;
    private readonly byte[] _hash;

    /// <summary>Builds a cell; <paramref name="data"/> holds <paramref name="bitLength"/> bits, big-endian, zero-padded.</summary>
    public Cell(ReadOnlySpan<byte> data, int bitLength, IReadOnlyList<Cell> refs, CellType type = CellType.Ordinary)
    {
        ArgumentNullException.ThrowIfNull(refs);
        if (bitLength is < 0 or > MaxBits || data.Length != (bitLength + 7) / 8)
        {
            throw new TonFormatException("bad_boc", $"A cell holds 0 to {MaxBits} bits; this one claims {bitLength}.");
        }

        if (refs.Count > MaxRefs)
        {
            throw new TonFormatException("bad_boc", "A cell has at most 4 references.");
        }

        if (type == CellType.Library && (bitLength != 8 + 256 || refs.Count != 0 || data[0] != (byte)CellType.Library))
        {
            throw new TonFormatException("bad_boc", "A library cell holds its type byte and a 256-bit hash, and no references.");
        }

        if (type is not (CellType.Ordinary or CellType.Library))
        {
            throw new TonFormatException("bad_boc", $"Exotic cells of type {type} are not accepted here.");
        }

        _data = data.ToArray();
        BitLength = bitLength;
        Refs = refs;
        Type = type;
        Depth = refs.Count == 0 ? 0 : refs.Max(r => r.Depth) + 1;
        _hash = ComputeHash();
    }

    /// <summary>The data bits, big-endian, padded with zero bits to whole bytes.</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>How many data bits the cell holds.</summary>
    public int BitLength { get; }

    /// <summary>The cell's references.</summary>
    public IReadOnlyList<Cell> Refs { get; }

    /// <summary>Ordinary or library.</summary>
    public CellType Type { get; }

    /// <summary>The longest path to a leaf (0 for a leaf).</summary>
    public int Depth { get; }

    /// <summary>The representation hash (SHA-256), which is what addresses and code hashes are made of.</summary>
    public ReadOnlySpan<byte> Hash => _hash;

    /// <summary>For a library cell, the hash of the library's code it stands for.</summary>
    public ReadOnlySpan<byte> LibraryHash => Type == CellType.Library ? _data.AsSpan(1, 32) : [];

    /// <summary>A reader positioned at the first data bit.</summary>
    public CellSlice BeginParse() => new(this);

    /// <summary>The two descriptor bytes that start a cell's serialisation.</summary>
    internal (byte D1, byte D2) Descriptors() =>
        ((byte)(Refs.Count + (Type == CellType.Ordinary ? 0 : 8)), (byte)((BitLength / 8) + ((BitLength + 7) / 8)));

    private byte[] ComputeHash()
    {
        var (d1, d2) = Descriptors();
        var size = 2 + _data.Length + (Refs.Count * (2 + 32));
        var buffer = new byte[size];
        buffer[0] = d1;
        buffer[1] = d2;
        _data.CopyTo(buffer, 2);
        if (BitLength % 8 != 0)
        {
            // The completion tag: a 1 bit right after the data, then zeros to the byte boundary.
            buffer[2 + _data.Length - 1] |= (byte)(1 << (7 - (BitLength % 8)));
        }

        var offset = 2 + _data.Length;
        foreach (var child in Refs)
        {
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(offset), (ushort)child.Depth);
            offset += 2;
        }

        foreach (var child in Refs)
        {
            child.Hash.CopyTo(buffer.AsSpan(offset));
            offset += 32;
        }

        return SHA256.HashData(buffer);
    }
}
