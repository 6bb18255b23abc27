using Cocoon.Web.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Cocoon.Web.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the portal or a database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<CocoonDbContext>
{
    public CocoonDbContext CreateDbContext(string[] args) =>
        new(CocoonDatabase.Configure(new DbContextOptionsBuilder<CocoonDbContext>(), "Host=localhost;Database=cocoon").Options);
}
