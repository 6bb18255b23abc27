namespace Cocoon.Shared.Ton;

/// <summary>
/// An account's initial state (TL-B <c>StateInit</c>): code and data. Its cell's hash is the account
/// id, which is how a wallet proves that an address belongs to a public key.
/// </summary>
public sealed record StateInit(Cell Root, Cell? Code, Cell? Data)
{
    /// <summary>Reads a state init from its cell.</summary>
    public static StateInit FromCell(Cell root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var slice = root.BeginParse();
        if (slice.LoadBit())
        {
            slice.Skip(5); // split_depth
        }

        if (slice.LoadBit())
        {
            slice.Skip(2); // tick, tock
        }

        var code = slice.LoadMaybeRef();
        var data = slice.LoadMaybeRef();
        slice.LoadMaybeRef(); // libraries
        if (slice.RemainingBits != 0 || slice.RemainingRefs != 0)
        {
            throw new TonFormatException("bad_state_init", "The state init has bits or references after its last field.");
        }

        return new StateInit(root, code, data);
    }

    /// <summary>Parses a state init from a base64 bag of cells.</summary>
    public static StateInit FromBase64(string boc)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(boc ?? "");
        }
        catch (FormatException)
        {
            throw new TonFormatException("bad_boc", "The state init is not valid base64.");
        }

        return FromCell(BagOfCells.ParseSingleRoot(bytes, BagOfCellsLimits.StateInit));
    }

    /// <summary>The address this state init gives in <paramref name="workchain"/>.</summary>
    public TonAddress AddressIn(int workchain) => new(workchain, Root.Hash);
}
