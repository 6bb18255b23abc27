namespace Cocoon.Web.Hosting;

/// <summary>Settings of the embedded database (section "Cocoon:Database"); unused when ConnectionStrings:Cocoon is set.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Cocoon:Database";

    /// <summary>Root folder of the embedded cluster. Default: ~/.local/share/cocoon/postgres, or /var/lib/cocoon/postgres as root.</summary>
    public string? EmbeddedDirectory { get; set; }

    public string ResolveEmbeddedDirectory()
    {
        if (!string.IsNullOrWhiteSpace(EmbeddedDirectory))
        {
            return Path.GetFullPath(EmbeddedDirectory);
        }

        // root's home is private (0700), where the postgres user that must own the cluster cannot reach.
        return Environment.IsPrivilegedProcess
            ? "/var/lib/cocoon/postgres"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cocoon", "postgres");
    }
}
