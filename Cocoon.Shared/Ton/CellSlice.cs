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

    /// <summary>Reads <c>Grams</c> (VarUInteger 16): a 4-bit byte count, then that many bytes, in nanotons.</summary>
    public ulong LoadCoins()
    {
        var length = (int)LoadUInt(4);
        if (length > 8)
        {
            throw new TonFormatException("bad_message", "An amount larger than 2^64 nanotons is not accepted.");
        }

        return length == 0 ? 0 : LoadUInt(length * 8);
    }

    /// <summary>
    /// Reads a <c>MsgAddress</c>: null for <c>addr_none</c> and external addresses (their bits are skipped),
    /// the address for <c>addr_std</c>. Anycast and <c>addr_var</c> are refused.
    /// </summary>
    public TonAddress? LoadAddress()
    {
        switch (LoadUInt(2))
        {
            case 0:
                return null;
            case 1:
                Skip((int)LoadUInt(9));
                return null;
            case 2:
                if (LoadBit())
                {
                    throw new TonFormatException("bad_message", "Anycast addresses are not accepted.");
                }

                var workchain = (sbyte)(byte)LoadUInt(8);
                return new TonAddress(workchain, LoadBytes(32));
            default:
                throw new TonFormatException("bad_message", "addr_var addresses are not accepted.");
        }
    }

    /// <summary>What is left, as a cell of its own (the bits and references not read yet): what a wallet signs.</summary>
    public Cell Rest()
    {
        var builder = new CellBuilder();
        while (RemainingBits > 0)
        {
            builder.StoreBit(LoadBit());
        }

        while (RemainingRefs > 0)
        {
            builder.StoreRef(LoadRef());
        }

        return builder.Build();
    }

    /// <summary>Everything but the last <paramref name="bits"/> bits, with every reference, as a cell; the slice is left at those last bits.</summary>
    public Cell AllBut(int bits)
    {
        var builder = new CellBuilder();
        while (RemainingBits > bits)
        {
            builder.StoreBit(LoadBit());
        }

        for (var i = _ref; i < cell.Refs.Count; i++)
        {
            builder.StoreRef(cell.Refs[i]);
        }

        return builder.Build();
    }

    private void Need(int bits)
    {
        if (bits < 0 || _bit + bits > cell.BitLength)
        {
            throw new TonFormatException("bad_state_init", "The cell has fewer bits than its layout needs.");
        }
    }
}
