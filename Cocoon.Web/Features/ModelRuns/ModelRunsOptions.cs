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

    /// <summary>The largest output a unit of <paramref name="rows"/> rows may upload.</summary>
    public long MaxOutputBytes(int rows) => EnvelopeAllowance + (Math.Max(rows, 1) * MaxOutputBytesPerRow * 101 / 100);
}
