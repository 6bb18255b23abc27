using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Identity.ApiTokens;
using Cocoon.Web.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Cocoon.Web.Data;

public sealed class CocoonDbContext(DbContextOptions<CocoonDbContext> options) : DbContext(options)
{
    public DbSet<Job> Jobs => Set<Job>();

    public DbSet<WorkUnit> WorkUnits => Set<WorkUnit>();

    public DbSet<Lease> Leases => Set<Lease>();

    public DbSet<RegisteredAgent> Agents => Set<RegisteredAgent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(CocoonDbContext).Assembly);

        // OpenIddict's own entities, named like ours (snake_case, plural).
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreApplication>().ToTable("openiddict_applications");
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreAuthorization>().ToTable("openiddict_authorizations");
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreScope>().ToTable("openiddict_scopes");
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreToken>().ToTable("openiddict_tokens");
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        // States are stored by name: readable in psql and in raw SQL, and safe to reorder in code.
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
}
