using Cocoon.Web.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests run against: the one named by COCOON_TEST_POSTGRES (a connection
/// string with rights to create databases), else a throwaway cluster started from the machine's
/// binaries in a temporary folder and removed afterwards. Each test class gets its own database.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private EmbeddedPostgres? _cluster;
    private string? _root;

    public string AdminConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable("COCOON_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            AdminConnectionString = configured;
            return;
        }

        _root = Path.Combine(Path.GetTempPath(), "cocoon-test-pg-" + Guid.NewGuid().ToString("N")[..8]);
        _cluster = await EmbeddedPostgres.StartAsync(_root, NullLogger.Instance);
        AdminConnectionString = _cluster.ConnectionString("postgres");
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)].ToLowerInvariant();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAsync();
            NpgsqlConnection.ClearAllPools();
            Directory.Delete(_root!, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
