using Cocoon.Web.Features.Jobs;
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
        builder.HasMany(j => j.Units).WithOne(u => u.Job).HasForeignKey(u => u.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
