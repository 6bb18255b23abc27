namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>Where the solution and its built programs are, seen from the test assembly.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: whatever the tests themselves were built as.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    public static string PortalDll => Built("Cocoon.Web", "Cocoon.Web.dll");

    public static string AgentDll => Built("Cocoon.Agent", "cocoon-agent.dll");

    /// <summary>Screenshots and logs the test run keeps (TestResults/ beside the test project).</summary>
    public static string ResultsDirectory
    {
        get
        {
            var dir = Path.Combine(Root, "Cocoon.Web.Tests", "TestResults");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    private static string Built(string project, string file)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first.");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cocoon.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cocoon.sln not found above the test assembly.");
    }
}
