using System.Diagnostics;

namespace Cocoon.Web.Hosting;

/// <summary>Runs a command to completion and captures its output; optionally as another user through runuser.</summary>
internal static class ProcessRunner
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, string? asUser = null, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(asUser is null ? file : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asUser is not null)
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(asUser);
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(file);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }

    public static async Task RunCheckedAsync(string file, IEnumerable<string> args, string? asUser = null, CancellationToken cancellationToken = default)
    {
        var list = args.ToList();
        var (code, output) = await RunAsync(file, list, asUser, cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', list)} exited with {code}: {output}");
        }
    }
}
