namespace Cocoon.Web.Hosting;

/// <summary>Finds the machine's PostgreSQL server binaries (initdb, pg_ctl): PATH first, then Debian's versioned folders.</summary>
public sealed record PostgresBinaries(string InitDb, string PgCtl)
{
    public static PostgresBinaries? Locate()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin"))
            : [];
        foreach (var dir in path.Concat(debian))
        {
            var initdb = Path.Combine(dir, "initdb");
            var pgctl = Path.Combine(dir, "pg_ctl");
            if (File.Exists(initdb) && File.Exists(pgctl))
            {
                return new PostgresBinaries(initdb, pgctl);
            }
        }

        return null;
    }
}
