namespace Cocoon.Shared.Ton;

/// <summary>The wallet contracts Cocoon recognises by their code hash.</summary>
public enum WalletVersion
{
    /// <summary>Wallet v3 revision 1.</summary>
    V3R1,

    /// <summary>Wallet v3 revision 2.</summary>
    V3R2,

    /// <summary>Wallet v4 revision 2.</summary>
    V4R2,

    /// <summary>Wallet v5 revision 1 (W5).</summary>
    V5R1,

    /// <summary>Wallet v5 beta, whose code is deployed as a library.</summary>
    V5Beta,

    /// <summary>Highload wallet v3.</summary>
    HighloadV3,
}
