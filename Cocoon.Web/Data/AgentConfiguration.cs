using Cocoon.Web.Features.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class AgentConfiguration : IEntityTypeConfiguration<RegisteredAgent>
{
    public void Configure(EntityTypeBuilder<RegisteredAgent> builder)
    {
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Name).HasMaxLength(100);
        builder.Property(a => a.DeviceName).HasMaxLength(200);
        builder.Property(a => a.AgentVersion).HasMaxLength(50);
        builder.Property(a => a.ConnectionId).HasMaxLength(100);
        builder.Property(a => a.ClientId).HasMaxLength(100);
        builder.HasIndex(a => a.ClientId).IsUnique();
        builder.HasIndex(a => a.OwnerAccountId);
    }
}
