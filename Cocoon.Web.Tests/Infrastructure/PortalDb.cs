using Cocoon.Web.Data;
using Cocoon.Web.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>Direct reads of the portal's database for assertions the API does not expose (lease history).</summary>
public static class PortalDb
{
    public static CocoonDbContext Open(string connectionString) =>
        new(CocoonDatabase.Configure(new DbContextOptionsBuilder<CocoonDbContext>(), connectionString).Options);
}
