namespace Cocoon.Shared.Ton;

/// <summary>How much a bag of cells may hold before the parser refuses it without doing the work.</summary>
public sealed record BagOfCellsLimits
{
    /// <summary>Limits that fit a wallet's state init with room to spare.</summary>
    public static readonly BagOfCellsLimits StateInit = new() { MaxBytes = 64 * 1024, MaxCells = 1024, MaxDepth = 128 };

    /// <summary>The most bytes of serialised input.</summary>
    public int MaxBytes { get; init; } = 1024 * 1024;

    /// <summary>The most cells.</summary>
    public int MaxCells { get; init; } = 65536;

    /// <summary>The deepest tree (TON's own limit is 1024).</summary>
    public int MaxDepth { get; init; } = 1024;
}
