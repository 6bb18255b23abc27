using System.Text;

namespace Cocoon.Shared.Ton;

/// <summary>Writes bits and references into a new cell, as TL-B schemes lay them out.</summary>
public sealed class CellBuilder
{
    private readonly byte[] _data = new byte[128];
    private readonly List<Cell> _refs = [];
    private int _bits;

    /// <summary>Appends one bit.</summary>
    public CellBuilder StoreBit(bool bit)
    {
        if (_bits >= Cell.MaxBits)
        {
            throw new TonFormatException("bad_cell", $"A cell holds at most {Cell.MaxBits} bits.");
        }

        if (bit)
        {
            _data[_bits >> 3] |= (byte)(0x80 >> (_bits & 7));
        }

        _bits++;
        return this;
    }

    /// <summary>Appends an unsigned big-endian integer of <paramref name="bits"/> bits (up to 64).</summary>
    public CellBuilder StoreUInt(ulong value, int bits)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 64);
        for (var i = bits - 1; i >= 0; i--)
        {
            StoreBit(((value >> i) & 1) == 1);
        }

        return this;
    }

    /// <summary>Appends whole bytes.</summary>
    public CellBuilder StoreBytes(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            StoreUInt(b, 8);
        }

        return this;
    }

    /// <summary>Appends <c>Grams</c>: the byte count in 4 bits, then the bytes.</summary>
    public CellBuilder StoreCoins(ulong nanotons)
    {
        var length = nanotons == 0 ? 0 : (64 - System.Numerics.BitOperations.LeadingZeroCount(nanotons) + 7) / 8;
        StoreUInt((ulong)length, 4);
        return length == 0 ? this : StoreUInt(nanotons, length * 8);
    }

    /// <summary>Appends a <c>MsgAddress</c>: <c>addr_std</c>, or <c>addr_none</c> for null.</summary>
    public CellBuilder StoreAddress(TonAddress? address)
    {
        if (address is not { } a)
        {
            return StoreUInt(0, 2);
        }

        return StoreUInt(2, 2).StoreBit(false).StoreUInt((byte)(sbyte)a.Workchain, 8).StoreBytes(a.Hash);
    }

    /// <summary>Appends a reference.</summary>
    public CellBuilder StoreRef(Cell cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        if (_refs.Count >= Cell.MaxRefs)
        {
            throw new TonFormatException("bad_cell", "A cell has at most 4 references.");
        }

        _refs.Add(cell);
        return this;
    }

    /// <summary>The cell written so far.</summary>
    public Cell Build() => new(_data.AsSpan(0, (_bits + 7) / 8), _bits, [.. _refs]);

    /// <summary>A text comment as wallets send it: op 0, then the UTF-8 text (continued in references when long).</summary>
    public static Cell Comment(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        Cell? tail = null;
        const int first = (Cell.MaxBits - 32) / 8;
        const int more = Cell.MaxBits / 8;
        var chunks = new List<byte[]> { bytes[..Math.Min(first, bytes.Length)] };
        for (var at = first; at < bytes.Length; at += more)
        {
            chunks.Add(bytes[at..Math.Min(at + more, bytes.Length)]);
        }

        for (var i = chunks.Count - 1; i >= 1; i--)
        {
            var builder = new CellBuilder().StoreBytes(chunks[i]);
            tail = (tail is null ? builder : builder.StoreRef(tail)).Build();
        }

        var root = new CellBuilder().StoreUInt(0, 32).StoreBytes(chunks[0]);
        return (tail is null ? root : root.StoreRef(tail)).Build();
    }

    /// <summary>Reads a text comment (op 0 and UTF-8, across references); null when the body is not one.</summary>
    public static string? ReadComment(Cell? body)
    {
        if (body is null || body.BitLength < 32)
        {
            return null;
        }

        var slice = body.BeginParse();
        if (slice.LoadUInt(32) != 0)
        {
            return null;
        }

        var bytes = new List<byte>();
        var cell = body;
        var current = slice;
        for (var depth = 0; depth < 16; depth++)
        {
            bytes.AddRange(current.LoadBytes(current.RemainingBits / 8));
            if (current.RemainingRefs == 0)
            {
                break;
            }

            cell = current.LoadRef();
            current = cell.BeginParse();
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
