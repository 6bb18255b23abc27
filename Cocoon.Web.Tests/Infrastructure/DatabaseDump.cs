using System.Diagnostics;
using Npgsql;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>pg_dump of a test database as text: what an attacker who copied the portal's database would hold.</summary>
public static class DatabaseDump
{
    public static async Task<string> TextAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo(PgDump())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { "--no-owner", "-h", builder.Host!, "-p", builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", builder.Username!, builder.Database! },
        };
        start.Environment["PGPASSWORD"] = builder.Password ?? "";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"pg_dump failed: {await error}");
        return await output;
    }

    private static string PgDump()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
                     .Concat(Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")) : []))
        {
            var candidate = Path.Combine(directory, "pg_dump");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("pg_dump is not installed (scripts/test installs PostgreSQL, which brings it).");
    }
}
