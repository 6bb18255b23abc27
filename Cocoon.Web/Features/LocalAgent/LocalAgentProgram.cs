using System.Diagnostics;
using System.Reflection;
using System.Runtime.Versioning;

namespace Cocoon.Web.Features.LocalAgent;

/// <summary>
/// Where the agent program is and how to start it. The portal does not reference the agent (its
/// kernels and ONNX engine); it runs the agent that was built beside it, or the one configured.
/// </summary>
public sealed record LocalAgentProgram(string Location)
{
    public const string AgentDll = "cocoon-agent.dll";

    /// <summary>
    /// The configured <paramref name="command"/> (relative to <paramref name="contentRoot"/>), else the
    /// nearest Cocoon.Agent/bin/&lt;configuration&gt;/&lt;framework&gt;/cocoon-agent.dll above the content root,
    /// this portal's own build configuration first. Null, with the paths tried, when there is none.
    /// </summary>
    public static LocalAgentProgram? Find(string? command, string contentRoot, out IReadOnlyList<string> tried)
    {
        var candidates = string.IsNullOrWhiteSpace(command)
            ? BuiltAgents(contentRoot)
            : [Path.GetFullPath(command, contentRoot)];
        tried = candidates;
        return candidates.FirstOrDefault(File.Exists) is { } found ? new LocalAgentProgram(found) : null;
    }

    /// <summary>A .dll runs on the dotnet host that runs the portal; anything else is started as it is.</summary>
    public ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var isDll = Location.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var info = new ProcessStartInfo(isDll ? DotnetHost() : Location)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Location)!,
        };
        if (isDll)
        {
            info.ArgumentList.Add(Location);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private static List<string> BuiltAgents(string contentRoot)
    {
        var portal = typeof(LocalAgentProgram).Assembly;
        string[] configurations = [.. new[] { portal.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration, "Release", "Debug" }
            .OfType<string>().Where(c => c.Length > 0).Distinct(StringComparer.Ordinal)];
        var framework = portal.GetCustomAttribute<TargetFrameworkAttribute>() is { } target && new FrameworkName(target.FrameworkName) is var name
            ? $"net{name.Version.Major}.{name.Version.Minor}"
            : "net10.0";
        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            var project = Path.Combine(dir.FullName, "Cocoon.Agent");
            if (Directory.Exists(project))
            {
                return [.. configurations.Select(c => Path.Combine(project, "bin", c, framework, AgentDll))];
            }
        }

        return [Path.GetFullPath(Path.Combine(contentRoot, "..", "Cocoon.Agent", "bin", configurations[0], framework, AgentDll))];
    }

    /// <summary>The dotnet that runs this portal when it runs on one; else whichever is on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
}
