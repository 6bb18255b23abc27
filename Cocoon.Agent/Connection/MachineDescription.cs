namespace Cocoon.Agent.Connection;

/// <summary>
/// A cheap description of this machine's compute devices for the pairing page (no GPU runtime is
/// loaded: the NVIDIA driver's /proc entries, else the CPU's model name).
/// </summary>
public static class MachineDescription
{
    public static string Devices(string procRoot = "/proc")
    {
        var gpus = new List<string>();
        var nvidia = Path.Combine(procRoot, "driver", "nvidia", "gpus");
        if (Directory.Exists(nvidia))
        {
            foreach (var information in Directory.EnumerateFiles(nvidia, "information", SearchOption.AllDirectories))
            {
                if (Field(information, "Model:") is { } model)
                {
                    gpus.Add(model);
                }
            }
        }

        if (gpus.Count > 0)
        {
            return string.Join(", ", gpus.GroupBy(g => g).Select(g => g.Count() > 1 ? $"{g.Count()}× {g.Key}" : g.Key));
        }

        var cpu = Field(Path.Combine(procRoot, "cpuinfo"), "model name");
        return $"CPU: {cpu ?? "unknown"} ({Environment.ProcessorCount} threads)";
    }

    private static string? Field(string file, string name)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith(name, StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
