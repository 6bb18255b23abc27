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
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention()
            .UseOpenIddict();
}
