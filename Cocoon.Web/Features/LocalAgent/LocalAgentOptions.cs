using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.LocalAgent;

/// <summary>The quick start's agent, run by the portal as a child process (section "Cocoon:LocalAgent").</summary>
public sealed class LocalAgentOptions
{
    public const string Section = "Cocoon:LocalAgent";

    public bool Enabled { get; set; }

    [Required(ErrorMessage = "Cocoon:LocalAgent:Name must not be empty.")]
    public string Name { get; set; } = "local-agent";

    [RegularExpression("^(auto|cpu|cuda|opencl|ilgpu-cpu)$", ErrorMessage = "Cocoon:LocalAgent:Device must be one of auto, cpu, cuda, opencl, ilgpu-cpu (the agent's --device words).")]
    public string Device { get; set; } = "auto";

    /// <summary>Where the local agent keeps its id; default beside the embedded database.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// The agent program: its cocoon-agent.dll (run with dotnet) or its executable, absolute or relative
    /// to the content root. Default: the agent built in this repository (Cocoon.Agent/bin/…).
    /// </summary>
    public string? Command { get; set; }

    public string ResolveDataDirectory() =>
        !string.IsNullOrWhiteSpace(DataDirectory)
            ? Path.GetFullPath(DataDirectory)
            : Environment.IsPrivilegedProcess
                ? "/var/lib/cocoon/local-agent"
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cocoon", "local-agent");
}
