using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cocoon.Web.Hosting;

/// <summary>
/// A private PostgreSQL cluster run from the machine's binaries: created on first use under a root
/// folder, started on a free loopback port, stopped on shutdown, reused on the next start. initdb
/// refuses to run as root, so as root the cluster belongs to (and runs as) the postgres user.
/// Password authentication (scram) keeps other local users out even though it listens on loopback.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private const string ServiceUser = "postgres";
    private readonly PostgresBinaries _binaries;
    private readonly string? _runAs;
    private readonly ILogger _logger;
    private bool _running;

    private EmbeddedPostgres(string root, PostgresBinaries binaries, string? runAs, ILogger logger)
    {
        Root = root;
        _binaries = binaries;
        _runAs = runAs;
        _logger = logger;
    }

    public string Root { get; }

    public string DataDirectory => Path.Combine(Root, "data");

    public int Port { get; private set; }

    private string Password { get; set; } = "";

    public static async Task<EmbeddedPostgres> StartAsync(string root, ILogger logger, CancellationToken cancellationToken = default)
    {
        var binaries = PostgresBinaries.Locate() ?? throw new CocoonStartupException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found: install the Debian package 'postgresql' " +
            "(apt-get install -y postgresql), or set ConnectionStrings:Cocoon to an existing server.");
        var runAs = Environment.IsPrivilegedProcess ? ServiceUser : null;
        var cluster = new EmbeddedPostgres(Path.GetFullPath(root), binaries, runAs, logger);
        await cluster.StartAsync(cancellationToken);
        return cluster;
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = ServiceUser,
        Password = Password,
        Database = database,
    }.ConnectionString;

    /// <summary>Creates the database unless it exists.</summary>
    public async Task EnsureDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var run = Path.Combine(Root, "run");
        var logs = Path.Combine(Root, "log");
        var passwordFile = Path.Combine(Root, "password");
        if (_runAs is not null)
        {
            await EnsureServiceUserAsync(cancellationToken);
        }

        foreach (var dir in new[] { Root, run, logs })
        {
            CreatePrivateDirectory(dir);
        }

        if (_runAs is not null)
        {
            await ProcessRunner.RunCheckedAsync("chown", [$"{_runAs}:{_runAs}", Root, run, logs], cancellationToken: cancellationToken);
        }

        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            await InitializeAsync(passwordFile, run, cancellationToken);
        }

        Password = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();

        var (status, _) = await ProcessRunner.RunAsync(_binaries.PgCtl, ["-D", DataDirectory, "status"], _runAs, cancellationToken);
        if (status == 0)
        {
            // A previous run was killed before it could stop its cluster; stop it so we own the port we pick.
            _logger.LogWarning("Embedded PostgreSQL in {Directory} was left running; restarting it", DataDirectory);
            await ProcessRunner.RunAsync(_binaries.PgCtl, ["-D", DataDirectory, "-m", "fast", "-w", "stop"], _runAs, cancellationToken);
        }

        Port = FreeLoopbackPort();
        // Room beyond one node's connection pool (Npgsql's 100) for Hangfire's listener, tools and a second node.
        var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c max_connections=300 -k {run}";
        var (code, output) = await ProcessRunner.RunAsync(_binaries.PgCtl,
            ["-D", DataDirectory, "-l", Path.Combine(logs, "postgres.log"), "-o", options, "-w", "-t", "60", "start"], _runAs, cancellationToken);
        if (code != 0)
        {
            throw new CocoonStartupException(
                $"The embedded PostgreSQL in {DataDirectory} did not start ({output.ReplaceLineEndings(" ")}); see {Path.Combine(logs, "postgres.log")}.");
        }

        _running = true;
        _logger.LogInformation("Embedded PostgreSQL started on 127.0.0.1:{Port} with data in {Directory}", Port, DataDirectory);
    }

    private async Task InitializeAsync(string passwordFile, string run, CancellationToken cancellationToken)
    {
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await WritePrivateFileAsync(passwordFile, password, cancellationToken);

        // initdb reads the superuser's password from a file the service user can read; it lives only for the call.
        var initPassword = Path.Combine(run, "initdb-password");
        await WritePrivateFileAsync(initPassword, password, cancellationToken);
        try
        {
            if (_runAs is not null)
            {
                await ProcessRunner.RunCheckedAsync("chown", [_runAs, initPassword], cancellationToken: cancellationToken);
            }

            await ProcessRunner.RunCheckedAsync(_binaries.InitDb,
                ["-D", DataDirectory, "-U", ServiceUser, "--pwfile", initPassword, "--auth=scram-sha-256", "-E", "UTF8", "--no-locale"],
                _runAs, cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            throw new CocoonStartupException($"initdb could not create the embedded PostgreSQL cluster in {DataDirectory}: {ex.Message}", ex);
        }
        finally
        {
            File.Delete(initPassword);
        }

        _logger.LogInformation("Created an embedded PostgreSQL cluster in {Directory}", DataDirectory);
    }

    /// <summary>A directory only its owner may enter (0700), so from the start: created with that mode, tightened if it was already there.</summary>
    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(path, owner);
        File.SetUnixFileMode(path, owner);
    }

    /// <summary>A file only its owner may read (0600) from the moment it exists: never written under a wider mode first.</summary>
    private static async Task WritePrivateFileAsync(string path, string text, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(path, options))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteAsync(text.AsMemory(), cancellationToken);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static async Task EnsureServiceUserAsync(CancellationToken cancellationToken)
    {
        var (code, _) = await ProcessRunner.RunAsync("id", ["-u", ServiceUser], cancellationToken: cancellationToken);
        if (code != 0)
        {
            await ProcessRunner.RunCheckedAsync("useradd",
                ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", ServiceUser], cancellationToken: cancellationToken);
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task StopAsync()
    {
        if (!_running)
        {
            return;
        }

        _running = false;
        var (code, output) = await ProcessRunner.RunAsync(_binaries.PgCtl, ["-D", DataDirectory, "-m", "fast", "-w", "stop"], _runAs);
        if (code == 0)
        {
            _logger.LogInformation("Embedded PostgreSQL stopped");
        }
        else
        {
            _logger.LogWarning("Embedded PostgreSQL did not stop cleanly: {Output}", output);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
