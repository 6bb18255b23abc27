using System.Numerics;

namespace Cocoon.Shared.Ton;

/// <summary>The two checksums TON formats use: CRC16-XMODEM in addresses, CRC32C in bags of cells.</summary>
public static class TonChecksums
{
    /// <summary>CRC16-XMODEM (polynomial 0x1021, initial value 0), as in user-friendly addresses.</summary>
    public static ushort Crc16Xmodem(ReadOnlySpan<byte> data)
    {
        uint crc = 0;
        foreach (var b in data)
        {
            crc ^= (uint)b << 8;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
        }

        return (ushort)crc;
    }

    /// <summary>CRC32C (Castagnoli), as at the end of a bag of cells (stored little-endian there).</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
