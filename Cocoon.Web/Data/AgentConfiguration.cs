using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Agents.Pairing;
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

        // An agent attested by a set holds it; removing the set clears such agents first (TdxMeasurements.RemoveAsync).
        builder.HasOne<Features.Attestation.TdxMeasurementSet>().WithMany().HasForeignKey(a => a.MeasurementSetId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PairingRequestConfiguration : IEntityTypeConfiguration<PairingRequest>
{
    public void Configure(EntityTypeBuilder<PairingRequest> builder)
    {
        builder.ToTable("pairing_requests");
        builder.Property(r => r.UserCode).HasMaxLength(64);
        builder.Property(r => r.AgentName).HasMaxLength(100);
        builder.Property(r => r.Machine).HasMaxLength(100);
        builder.Property(r => r.Device).HasMaxLength(100);
        builder.Property(r => r.AgentVersion).HasMaxLength(100);
        builder.Property(r => r.RequestedFrom).HasMaxLength(64);
        builder.HasIndex(r => r.UserCode);
        builder.HasIndex(r => r.ExpiresAt);
    }
}
