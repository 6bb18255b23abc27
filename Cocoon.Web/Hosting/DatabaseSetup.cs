using System.Net.Sockets;
using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Cocoon.Web.Hosting;

public static class DatabaseSetup
{
    public const string ConnectionStringName = "Cocoon";

    /// <summary>
    /// Makes the database ready before anything else is registered: the server named by
    /// ConnectionStrings:Cocoon, or an embedded cluster when none is named; then applies migrations.
    /// Throws <see cref="CocoonStartupException"/> with one actionable sentence when it cannot.
    /// </summary>
    public static async Task AddCocoonDatabaseAsync(this WebApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        using var loggerFactory = LoggerFactory.Create(logging => logging
            .AddConfiguration(builder.Configuration.GetSection("Logging"))
            .AddSimpleConsole(o => o.SingleLine = true));
        var logger = loggerFactory.CreateLogger("Cocoon.Database");

        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        EmbeddedPostgres? embedded = null;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var options = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
            embedded = await EmbeddedPostgres.StartAsync(options.ResolveEmbeddedDirectory(), logger, cancellationToken);
            await embedded.EnsureDatabaseAsync("cocoon", cancellationToken);
            connectionString = embedded.ConnectionString("cocoon");
        }

        try
        {
            await MigrateAsync(connectionString, cancellationToken);
        }
        catch (Exception ex) when (embedded is null && ex is NpgsqlException or SocketException or TimeoutException or ArgumentException)
        {
            throw new CocoonStartupException(
                $"Cannot use the database named by ConnectionStrings:Cocoon ({Describe(connectionString)}): {ex.GetBaseException().Message}. " +
                "Fix that setting, or remove it to run the embedded PostgreSQL.", ex);
        }
        catch
        {
            if (embedded is not null)
            {
                await embedded.StopAsync();
            }

            throw;
        }

        builder.Services.AddSingleton(new CocoonDatabase(connectionString));
        if (embedded is not null)
        {
            // Registered before every other hosted service, so it stops after all of them.
            builder.Services.AddHostedService(_ => new EmbeddedPostgresLifetime(embedded));
        }

        builder.Services.AddDbContextFactory<CocoonDbContext>(options => CocoonDatabase.Configure(options, connectionString));
    }

    private static async Task MigrateAsync(string connectionString, CancellationToken cancellationToken)
    {
        var options = CocoonDatabase.Configure(new DbContextOptionsBuilder<CocoonDbContext>(), connectionString).Options;
        await using var db = new CocoonDbContext(options);
        await db.Database.MigrateAsync(cancellationToken);
    }

    private static string Describe(string connectionString)
    {
        try
        {
            var csb = new NpgsqlConnectionStringBuilder(connectionString);
            return $"Host={csb.Host};Port={csb.Port};Database={csb.Database}";
        }
        catch (ArgumentException)
        {
            return "unparseable";
        }
    }

    private sealed class EmbeddedPostgresLifetime(EmbeddedPostgres embedded) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => embedded.StopAsync();
    }
}
