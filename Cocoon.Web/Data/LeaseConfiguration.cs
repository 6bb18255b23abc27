using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class LeaseConfiguration : IEntityTypeConfiguration<Lease>
{
    public void Configure(EntityTypeBuilder<Lease> builder)
    {
        builder.HasOne<WorkUnit>().WithMany().HasForeignKey(l => l.WorkUnitId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Job>().WithMany().HasForeignKey(l => l.JobId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<RegisteredAgent>().WithMany().HasForeignKey(l => l.AgentId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(l => l.WorkUnitId);
        // Active leases per agent (capacity) and expiring leases (the sweeper) are the hot reads.
        builder.HasIndex(l => l.AgentId).HasFilter("ended_at IS NULL");
        // An agent's reputation weighs its latest finished leases (the agent_reputations view).
        builder.HasIndex(l => new { l.AgentId, l.IssuedAt });
        builder.HasIndex(l => l.ExpiresAt).HasFilter("ended_at IS NULL");
        // A job's reservations: running leases, and those of copies awaiting their vote (RunningLeases).
        builder.HasIndex([nameof(Lease.JobId)], "ix_leases_job_id_reserving").HasDatabaseName("ix_leases_job_id_reserving").HasFilter("ended_at IS NULL OR awaiting_vote");
    }
}
