using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class DisputeConfiguration : IEntityTypeConfiguration<Dispute>
{
    public void Configure(EntityTypeBuilder<Dispute> builder)
    {
        builder.ToTable("disputes");
        builder.Property(d => d.Kind).HasMaxLength(32);
        builder.Property(d => d.Reported).HasMaxLength(64);
        builder.Property(d => d.Expected).HasMaxLength(64);
        builder.Property(d => d.Evidence).HasMaxLength(2000);
        builder.HasIndex(d => d.At);
        builder.HasIndex(d => d.AgentId);
        builder.HasIndex(d => d.LeaseId).IsUnique();
        builder.HasOne<Job>().WithMany().HasForeignKey(d => d.JobId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<RegisteredAgent>().WithMany().HasForeignKey(d => d.AgentId).OnDelete(DeleteBehavior.Cascade);
    }
}
