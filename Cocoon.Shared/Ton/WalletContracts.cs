namespace Cocoon.Shared.Ton;

/// <summary>
/// Recognises a wallet by the hash of its code and reads the Ed25519 public key from its data, at
/// the offset that version's data layout puts it.
/// </summary>
public static class WalletContracts
{
    private static readonly Dictionary<string, (WalletVersion Version, int SkipBits)> ByCodeHash = new(StringComparer.Ordinal)
    {
        ["b61041a58a7980b946e8fb9e198e3c904d24799ffa36574ea4251c41a566f581"] = (WalletVersion.V3R1, 64),
        ["84dafa449f98a6987789ba232358072bc0f76dc4524002a5d0918b9a75d2d599"] = (WalletVersion.V3R2, 64),
        ["feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0"] = (WalletVersion.V4R2, 64),
        ["20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f"] = (WalletVersion.V5R1, 1 + 32 + 32),
        ["11acad7955844090f283bf238bc1449871f783e7cc0979408d3f4859483e8525"] = (WalletVersion.HighloadV3, 0),
    };

    // W5 beta's code is a library cell; what identifies it is the hash of the library it points to.
    private static readonly Dictionary<string, (WalletVersion Version, int SkipBits)> ByLibraryHash = new(StringComparer.Ordinal)
    {
        ["e4cf3b2f4c6d6a61ea0f2b5447d266785b26af3637db2deee6bcd1aa826f3412"] = (WalletVersion.V5Beta, 1 + 32 + 80),
    };

    /// <summary>The versions this class recognises.</summary>
    public static IReadOnlyCollection<WalletVersion> Known { get; } =
        [.. ByCodeHash.Values.Concat(ByLibraryHash.Values).Select(v => v.Version)];

    /// <summary>
    /// Identifies the wallet and returns its public key. Throws <see cref="TonFormatException"/> with code
    /// <c>unknown_wallet</c> when the code is not a known wallet, or <c>bad_state_init</c> when its data is short.
    /// </summary>
    public static (WalletVersion Version, byte[] PublicKey) ReadPublicKey(StateInit state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Code is null || state.Data is null)
        {
            throw new TonFormatException("unknown_wallet", "The state init has no code or no data, so it is not a wallet.");
        }

        var found = state.Code.Type == CellType.Library
            ? ByLibraryHash.TryGetValue(Convert.ToHexStringLower(state.Code.LibraryHash), out var layout)
            : ByCodeHash.TryGetValue(Convert.ToHexStringLower(state.Code.Hash), out layout);
        if (!found)
        {
            throw new TonFormatException(
                "unknown_wallet",
                $"The wallet's code is not one Cocoon knows ({string.Join(", ", Known)}).");
        }

        var slice = state.Data.BeginParse();
        slice.Skip(layout.SkipBits);
        return (layout.Version, slice.LoadBytes(32));
    }
}
