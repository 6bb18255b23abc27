namespace Cocoon.Shared.Ton;

/// <summary>The kind of a cell: ordinary, or one of the exotic kinds named by the first data byte.</summary>
public enum CellType
{
    /// <summary>An ordinary cell.</summary>
    Ordinary = -1,

    /// <summary>A pruned branch (exotic type 1).</summary>
    PrunedBranch = 1,

    /// <summary>A library reference (exotic type 2): the data holds the hash of the library's root cell.</summary>
    Library = 2,

    /// <summary>A Merkle proof (exotic type 3).</summary>
    MerkleProof = 3,

    /// <summary>A Merkle update (exotic type 4).</summary>
    MerkleUpdate = 4,
}
