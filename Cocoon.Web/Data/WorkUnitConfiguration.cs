using Cocoon.Web.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class WorkUnitConfiguration : IEntityTypeConfiguration<WorkUnit>
{
    public void Configure(EntityTypeBuilder<WorkUnit> builder)
    {
        builder.HasIndex(u => new { u.JobId, u.Index, u.Replica }).IsUnique();
        builder.Property(u => u.PlainDigest).HasMaxLength(64);
        // Dispatch reads the oldest pending units; a partial index keeps that read small as history grows.
        builder.HasIndex(u => u.QueuedAt).HasFilter("state = 'Pending'");
        // "Is any unit of this job unfinished?" is asked on every counted result.
        builder.HasIndex(u => u.JobId).HasDatabaseName("ix_work_units_job_id_unfinished").HasFilter("state <> 'Succeeded'");
        builder.Property(u => u.OutputDigest).HasMaxLength(64);
        builder.Property(u => u.LastError).HasMaxLength(2000);
    }
}
