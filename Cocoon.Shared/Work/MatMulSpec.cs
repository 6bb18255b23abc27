namespace Cocoon.Shared.Work;

/// <summary>
/// A batch of square float32 matrix products C_i = A_i × B_i for i in [FirstMatrix, FirstMatrix + MatrixCount).
/// The inputs are generated from the seed by <see cref="MatMulInputs"/>, so the portal ships no data.
/// </summary>
public sealed record MatMulSpec
{
    /// <summary>Rows and columns of every matrix.</summary>
    public required int MatrixSize { get; init; }

    /// <summary>Index of the first matrix of the unit within its job.</summary>
    public required long FirstMatrix { get; init; }

    /// <summary>How many products the unit computes.</summary>
    public required int MatrixCount { get; init; }

    /// <summary>The job's seed for the input generator.</summary>
    public required long Seed { get; init; }

    /// <summary>Floating-point operations of the unit: 2·n³ per product.</summary>
    public long Flops => 2L * MatrixSize * MatrixSize * MatrixSize * MatrixCount;
}
