using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.ModelRuns;

/// <summary>Limits on what agents hand back for model jobs (section "Cocoon:ModelRuns").</summary>
public sealed class ModelRunsOptions
{
    public const string Section = "Cocoon:ModelRuns";

    /// <summary>
    /// The most sealed output bytes a unit may upload per row it ran (plus room for the envelope): an
    /// agent cannot park more in the developer's storage than a row model's output could take.
    /// </summary>
    [Range(1024, 1L << 30, ErrorMessage = "Cocoon:ModelRuns:MaxOutputBytesPerRow must be between 1 KiB and 1 GiB.")]
    public long MaxOutputBytesPerRow { get; set; } = 1L << 20;

    /// <summary>How long an output of a lease that failed, expired or was superseded is kept before the sweep removes it.</summary>
    [Range(0, 24 * 60, ErrorMessage = "Cocoon:ModelRuns:OrphanOutputMinutes must be between 0 and 1440.")]
    public int OrphanOutputMinutes { get; set; } = 10;

    /// <summary>Room for the sealed envelope's header and per-chunk tags and the safetensors header.</summary>
    public const long EnvelopeAllowance = 64 << 10;

    /// <summary>The most bytes an output element may take as the agent writes it (float32, int64, bool).</summary>
    public const long BytesPerElement = 8;

    /// <summary>
    /// The largest output a unit of <paramref name="rows"/> rows may upload: per row, what the model's
    /// declared outputs hold at 8 bytes an element, or <see cref="MaxOutputBytesPerRow"/> when the model
    /// declares no fixed shape (never more).
    /// </summary>
    public long MaxOutputBytes(int rows, long? elementsPerRow)
    {
        var perRow = elementsPerRow is > 0 ? Math.Min(MaxOutputBytesPerRow, elementsPerRow.Value * BytesPerElement) : MaxOutputBytesPerRow;
        return EnvelopeAllowance + (Math.Max(rows, 1) * perRow * 101 / 100);
    }
}
