using Cocoon.Shared.Ton;

namespace Cocoon.Web.Tests.Identity;

/// <summary>Builds wallet state inits in tests: a data cell with the key at a given bit offset, and the StateInit cell.</summary>
internal static class WalletCells
{
    public static Cell Data(int prefixBits, byte[] publicKey, int trailingBits = 1)
    {
        var bits = new BitWriter();
        bits.Zeros(prefixBits);
        bits.Bytes(publicKey);
        bits.Zeros(trailingBits);
        return bits.ToCell([]);
    }

    public static StateInit StateInit(Cell code, Cell data)
    {
        // split_depth: nothing, special: nothing, code: just, data: just, library: nothing.
        var bits = new BitWriter();
        bits.Bits(false, false, true, true, false);
        return Shared.Ton.StateInit.FromCell(bits.ToCell([code, data]));
    }

    private sealed class BitWriter
    {
        private readonly List<bool> _bits = [];

        public void Bits(params bool[] bits) => _bits.AddRange(bits);

        public void Zeros(int count) => _bits.AddRange(Enumerable.Repeat(false, count));

        public void Bytes(byte[] bytes)
        {
            foreach (var b in bytes)
            {
                for (var i = 7; i >= 0; i--)
                {
                    _bits.Add(((b >> i) & 1) == 1);
                }
            }
        }

        public Cell ToCell(Cell[] refs)
        {
            var data = new byte[(_bits.Count + 7) / 8];
            for (var i = 0; i < _bits.Count; i++)
            {
                if (_bits[i])
                {
                    data[i / 8] |= (byte)(1 << (7 - (i % 8)));
                }
            }

            return new Cell(data, _bits.Count, refs);
        }
    }
}
