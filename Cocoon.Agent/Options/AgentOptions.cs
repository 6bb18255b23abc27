using System.ComponentModel.DataAnnotations;

namespace Cocoon.Agent.Options;

/// <summary>Settings of the agent (section "Agent"; env COCOON_Agent__X; CLI flags override).</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    [Required(ErrorMessage = "Agent:PortalUrl is not set: pair the agent first (cocoon-agent pair --portal URL), or pass --portal http://host:port.")]
    [Url(ErrorMessage = "Agent:PortalUrl must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5080.")]
    public string PortalUrl { get; set; } = "";

    [Required(ErrorMessage = "Agent:Name must not be empty: pass --name.")]
    [StringLength(100, ErrorMessage = "Agent:Name must be at most 100 characters.")]
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>One of <see cref="Compute.DeviceCatalog.Choices"/> (checked by <see cref="AgentOptionsValidator"/>, which lists them).</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Units held at once: one runs while the next waits, so the device never idles on a round trip.</summary>
    [Range(1, 64, ErrorMessage = "Agent:Capacity must be between 1 and 64.")]
    public int Capacity { get; set; } = 2;

    /// <summary>Where the agent keeps its id and unsent results; defaults to ~/.local/share/cocoon-agent.</summary>
    public string? DataDirectory { get; set; }

    [Range(1, 300, ErrorMessage = "Agent:MaxReconnectDelaySeconds must be between 1 and 300.")]
    public int MaxReconnectDelaySeconds { get; set; } = 10;

    /// <summary>Most bytes of host memory one batch of products may use.</summary>
    [Range(1 << 20, long.MaxValue, ErrorMessage = "Agent:BatchMemoryBytes must be at least 1 MiB.")]
    public long BatchMemoryBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Most bytes of activations one model run may hold at once; a run that would need more is refused
    /// before it allocates, naming the peak. Unset: half the memory this process may use.
    /// </summary>
    [Range(16L << 20, long.MaxValue, ErrorMessage = "Agent:MaxRunMemoryBytes must be at least 16 MiB (16777216); leave it unset for half the machine's memory.")]
    public long? MaxRunMemoryBytes { get; set; }

    /// <summary>
    /// What vouches for the enclave key: tdx (an Intel TDX quote from configfs-tsm; refused to start
    /// without one), development (a statement signed with the pairing key), or auto (TDX when available).
    /// </summary>
    [RegularExpression("^(auto|tdx|development)$", ErrorMessage = "Agent:Evidence must be one of auto, tdx, development.")]
    public string Evidence { get; set; } = "auto";

    /// <summary>Where the kernel's configfs-tsm report interface is (Linux 6.7+ in a TDX guest).</summary>
    public string TsmReportPath { get; set; } = "/sys/kernel/config/tsm/report";

    /// <summary>Run the reference models briefly at start and report the score to the portal.</summary>
    public bool BenchmarkOnStart { get; set; } = true;

    public string ResolveDataDirectory() =>
        string.IsNullOrWhiteSpace(DataDirectory)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cocoon-agent")
            : Path.GetFullPath(DataDirectory);
}
