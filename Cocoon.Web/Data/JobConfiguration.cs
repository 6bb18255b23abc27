using Cocoon.Web.Features.Assets;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Features.ModelRuns;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.Property(j => j.Name).HasMaxLength(100);
        builder.Property(j => j.FailureReason).HasMaxLength(2000);
        builder.HasIndex(j => j.CreatedAt);
        builder.HasIndex(j => j.State);
        builder.ToTable(t => t.HasCheckConstraint("ck_jobs_priority", "priority BETWEEN -10 AND 10"));
        builder.HasOne<Asset>().WithMany().HasForeignKey(j => j.ModelAssetId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne<Asset>().WithMany().HasForeignKey(j => j.DatasetAssetId).OnDelete(DeleteBehavior.SetNull);
        builder.HasMany(j => j.Units).WithOne(u => u.Job).HasForeignKey(u => u.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class KeyGrantConfiguration : IEntityTypeConfiguration<KeyGrantRecord>
{
    public void Configure(EntityTypeBuilder<KeyGrantRecord> builder)
    {
        builder.ToTable("key_grants");
        builder.HasIndex(g => new { g.JobId, g.AgentId }).IsUnique();
        builder.HasOne<Job>().WithMany().HasForeignKey(g => g.JobId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Features.Agents.RegisteredAgent>().WithMany().HasForeignKey(g => g.AgentId).OnDelete(DeleteBehavior.Cascade);
    }
}
