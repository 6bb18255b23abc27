namespace Cocoon.Shared.Ton;

/// <summary>Reads a cell's bits and references in order, as TL-B schemes describe them.</summary>
public sealed class CellSlice(Cell cell)
{
    private int _bit;
    private int _ref;

    /// <summary>Bits not read yet.</summary>
    public int RemainingBits => cell.BitLength - _bit;

    /// <summary>References not read yet.</summary>
    public int RemainingRefs => cell.Refs.Count - _ref;

    /// <summary>Reads one bit.</summary>
    public bool LoadBit()
    {
        Need(1);
        var value = (cell.Data[_bit >> 3] >> (7 - (_bit & 7)) & 1) == 1;
        _bit++;
        return value;
    }

    /// <summary>Reads an unsigned big-endian integer of up to 64 bits.</summary>
    public ulong LoadUInt(int bits)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 64);
        Need(bits);
        ulong value = 0;
        for (var i = 0; i < bits; i++)
        {
            value = (value << 1) | (LoadBit() ? 1UL : 0UL);
        }

        return value;
    }

    /// <summary>Skips bits.</summary>
    public void Skip(int bits)
    {
        Need(bits);
        _bit += bits;
    }

    /// <summary>Reads whole bytes (at any bit offset).</summary>
    public byte[] LoadBytes(int count)
    {
        Need(count * 8);
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            bytes[i] = (byte)LoadUInt(8);
        }

        return bytes;
    }

    /// <summary>Reads the next reference.</summary>
    public Cell LoadRef()
    {
        if (_ref >= cell.Refs.Count)
        {
            throw new TonFormatException("bad_state_init", "The cell has fewer references than its layout needs.");
        }

        return cell.Refs[_ref++];
    }

    /// <summary>Reads <c>Maybe ^Cell</c>: a bit, then a reference when the bit is set.</summary>
    public Cell? LoadMaybeRef() => LoadBit() ? LoadRef() : null;

    private void Need(int bits)
    {
        if (bits < 0 || _bit + bits > cell.BitLength)
        {
            throw new TonFormatException("bad_state_init", "The cell has fewer bits than its layout needs.");
        }
    }
}
