namespace Cocoon.Shared.Ton;

/// <summary>
/// TEP-467's normalized hash of an external inbound message: the hash of the same message with the
/// source set to addr_none, the import fee to zero, no state init, and the body as a reference. A
/// wallet's message is found on chain by it whatever its sender chose for those fields, so it is the
/// key a payout transfer is tracked (and deduplicated) by.
/// </summary>
public static class ExternalMessageHash
{
    /// <summary>The normalized hash of an external inbound message (32 bytes).</summary>
    /// <exception cref="TonFormatException">The cell is not an external inbound message.</exception>
    public static byte[] Normalized(Cell message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var slice = message.BeginParse();
        if (slice.LoadUInt(2) != 2)
        {
            throw new TonFormatException("bad_message", "This is not an external inbound message (ext_in_msg_info$10).");
        }

        slice.LoadAddress();
        var destination = slice.LoadAddress() ?? throw new TonFormatException("bad_message", "The external message names no destination.");
        slice.LoadCoins();
        if (slice.LoadBit())
        {
            if (slice.LoadBit())
            {
                slice.LoadRef();
            }
            else
            {
                WalletExternal.InlineStateInit(slice);
            }
        }

        var body = slice.LoadBit() ? slice.LoadRef() : slice.Rest();
        var normalized = new CellBuilder()
            .StoreUInt(2, 2)
            .StoreUInt(0, 2)
            .StoreAddress(destination)
            .StoreCoins(0)
            .StoreBit(false)
            .StoreBit(true)
            .StoreRef(body)
            .Build();
        return normalized.Hash.ToArray();
    }
}
