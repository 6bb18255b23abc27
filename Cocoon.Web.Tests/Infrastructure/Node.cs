using System.Diagnostics;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>Runs a script of wwwroot-assets with node (the JavaScript side of cross-implementation tests).</summary>
public static class Node
{
    public static async Task<(int Code, string Output, string Error)> RunAsync(string script, params string[] args)
    {
        var info = new ProcessStartInfo("node") { WorkingDirectory = Path.Combine(Repo.Root, "wwwroot-assets"), RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var node = Process.Start(info) ?? throw new InvalidOperationException("node did not start; scripts/test installs Node.js.");
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (node.ExitCode, await output, await error);
    }
}
