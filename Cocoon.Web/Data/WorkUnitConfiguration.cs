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
        // …and each running job's oldest pending units, a few at a time (Dispatcher.ChooseAsync).
        builder.HasIndex([nameof(WorkUnit.JobId), nameof(WorkUnit.QueuedAt), nameof(WorkUnit.Index)], "ix_work_units_pending_by_job").HasDatabaseName("ix_work_units_pending_by_job").HasFilter("state = 'Pending'");
        // Units running per account (fair share, account limits) are counted on every dispatch.
        builder.HasIndex([nameof(WorkUnit.JobId)], "ix_work_units_job_id_active").HasDatabaseName("ix_work_units_job_id_active").HasFilter("state IN ('Leased', 'Running')");
        // "Is any unit of this job unfinished?" is asked on every counted result.
        builder.HasIndex(u => u.JobId).HasDatabaseName("ix_work_units_job_id_unfinished").HasFilter("state <> 'Succeeded'");
        builder.Property(u => u.OutputDigest).HasMaxLength(64);
        builder.Property(u => u.LastError).HasMaxLength(2000);
    }
}
