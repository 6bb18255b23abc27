using Cocoon.Web.Hosting;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cocoon.Web.Tests.Hosting;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class StartupTests
{
    [Fact]
    public async Task An_unreachable_database_stops_the_portal_with_one_sentence_naming_the_setting()
    {
        var unused = FreePort.Next();
        await using var portal = ChildProcess.StartDotnet(Repo.PortalDll, ["--urls", $"http://127.0.0.1:{FreePort.Next()}"],
            new Dictionary<string, string>
            {
                ["ConnectionStrings__Cocoon"] = $"Host=127.0.0.1;Port={unused};Database=cocoon;Username=x;Password=y;Timeout=3",
                ["Cocoon__LocalAgent__Enabled"] = "false",
            }, "portal-unreachable-db");

        var code = await portal.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, code);
        var lines = portal.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var error = Assert.Single(lines, l => l.StartsWith("cocoon:", StringComparison.Ordinal));
        Assert.Contains("ConnectionStrings:Cocoon", error, StringComparison.Ordinal);
        Assert.Contains($"Port={unused}", error, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_embedded_cluster_keeps_its_data_across_restarts()
    {
        var root = Path.Combine(Path.GetTempPath(), "cocoon-embedded-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var first = await EmbeddedPostgres.StartAsync(root, NullLogger.Instance);
            await first.EnsureDatabaseAsync("cocoon");
            await Execute(first.ConnectionString("cocoon"), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42);");
            await first.StopAsync();
            NpgsqlConnection.ClearAllPools();

            await using var second = await EmbeddedPostgres.StartAsync(root, NullLogger.Instance);
            await second.EnsureDatabaseAsync("cocoon");
            await using var connection = new NpgsqlConnection(second.ConnectionString("cocoon"));
            await connection.OpenAsync();
            await using var read = new NpgsqlCommand("SELECT v FROM kept", connection);
            Assert.Equal(42, await read.ExecuteScalarAsync());

            // Its password and its directories are its owner's alone, from the moment they exist.
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, "password")));
                foreach (var directory in new[] { root, Path.Combine(root, "run"), Path.Combine(root, "log") })
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
                }
            }

            // The cluster only takes its password: trust is not configured.
            var wrong = new NpgsqlConnectionStringBuilder(second.ConnectionString("cocoon")) { Password = "wrong" }.ConnectionString;
            await Assert.ThrowsAsync<PostgresException>(() => Execute(wrong, "SELECT 1"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
