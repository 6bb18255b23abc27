using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Hosting;

/// <summary>The database the portal runs on (configured, or the embedded cluster started at boot).</summary>
public sealed class CocoonDatabase(string connectionString)
{
    public string ConnectionString { get; } = connectionString;

    public static DbContextOptionsBuilder<CocoonDbContext> Configure(DbContextOptionsBuilder<CocoonDbContext> options, string connectionString)
    {
        Configure((DbContextOptionsBuilder)options, connectionString);
        return options;
    }

    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(Tuned(connectionString), npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention()
            .UseOpenIddict();

    /// <summary>
    /// The portal runs the same few dozen statements for every unit, each in a short-lived context:
    /// Npgsql prepares those used twice and keeps them on each pooled connection, so PostgreSQL parses
    /// and plans them once, not per call; and a connection going back to the pool is not reset (seven
    /// statements each time, most of the statements PostgreSQL ran per unit): the portal keeps no
    /// session state on them (its advisory locks are transaction-scoped, it sets nothing, listens to
    /// nothing). A connection string that says otherwise keeps its own settings.
    /// </summary>
    private static string Tuned(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 200;
            builder.AutoPrepareMinUsages = 2;
        }

        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }
}
