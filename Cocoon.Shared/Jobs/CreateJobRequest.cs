using System.ComponentModel.DataAnnotations;
using Cocoon.Shared.Work;

namespace Cocoon.Shared.Jobs;

/// <summary>
/// A request to run a batch of matrix products. The same rules guard the portal's form and its API;
/// the limits keep one unit of work small enough to be leased, retried and re-dispatched cheaply.
/// </summary>
public sealed class CreateJobRequest : IValidatableObject
{
    /// <summary>Most work units one job may be split into.</summary>
    public const int MaxUnits = 10_000;

    /// <summary>Most floating-point operations one unit may hold (about a minute on a CPU agent).</summary>
    public const long MaxFlopsPerUnit = 20_000_000_000;

    /// <summary>A name the developer recognises.</summary>
    [Required(ErrorMessage = "Give the job a name.")]
    [StringLength(100, MinimumLength = 1, ErrorMessage = "The name must be 1 to 100 characters.")]
    public string Name { get; set; } = "";

    /// <summary>Rows and columns of each matrix.</summary>
    [Range(2, 2048, ErrorMessage = "Matrix size must be between 2 and 2048.")]
    public int MatrixSize { get; set; } = 64;

    /// <summary>How many products the job computes.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Matrix count must be between 1 and 1,000,000.")]
    public int MatrixCount { get; set; } = 64;

    /// <summary>How many products go into one work unit.</summary>
    [Range(1, 100_000, ErrorMessage = "Matrices per unit must be between 1 and 100,000.")]
    public int MatricesPerUnit { get; set; } = 8;

    /// <summary>Seed of the input generator; chosen at random when absent.</summary>
    public long? Seed { get; set; }

    /// <summary>Nanotons to hold for the job's units, as a string of digits (absent: nothing, so only free agents run it).</summary>
    public string? Budget { get; set; }

    /// <summary>The most the job pays per TFLOP, nanotons as a string of digits (absent: any price the budget covers).</summary>
    public string? MaxPricePerTflop { get; set; }

    /// <summary>What the agents running the job must be, and how to choose among them (absent: any agent, balanced).</summary>
    public MatchingOptions? Matching { get; set; }

    /// <summary>Work units the job will be split into.</summary>
    public int UnitCount => MatricesPerUnit <= 0 ? 0 : (MatrixCount + MatricesPerUnit - 1) / MatricesPerUnit;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MatricesPerUnit > MatrixCount && MatrixCount > 0)
        {
            yield return new ValidationResult(
                $"Matrices per unit ({MatricesPerUnit}) cannot exceed the matrix count ({MatrixCount}).",
                [nameof(MatricesPerUnit)]);
        }

        if (UnitCount > MaxUnits)
        {
            yield return new ValidationResult(
                $"This would make {UnitCount:N0} work units; at most {MaxUnits:N0} are allowed. Put more matrices in each unit.",
                [nameof(MatricesPerUnit)]);
        }

        var flopsPerUnit = 2.0 * MatrixSize * MatrixSize * MatrixSize * Math.Min(MatricesPerUnit, Math.Max(MatrixCount, 1));
        if (flopsPerUnit > MaxFlopsPerUnit)
        {
            yield return new ValidationResult(
                $"One unit would take {flopsPerUnit / 1e9:N1} GFLOP; the limit is {MaxFlopsPerUnit / 1e9:N0}. Use smaller matrices or fewer per unit.",
                [nameof(MatricesPerUnit), nameof(MatrixSize)]);
        }

        if (MatrixSize > MatMulInputs.MaxExactSize)
        {
            yield return new ValidationResult("Matrix size is too large for exact float32 products.", [nameof(MatrixSize)]);
        }
    }
}
