using Cocoon.Web.Features.Attestation;
using Cocoon.Web.Features.Attestation.Collateral;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class TdxMeasurementSetConfiguration : IEntityTypeConfiguration<TdxMeasurementSet>
{
    public void Configure(EntityTypeBuilder<TdxMeasurementSet> builder)
    {
        builder.ToTable("tdx_measurement_sets");
        builder.Property(m => m.Name).HasMaxLength(100);
        builder.Property(m => m.Note).HasMaxLength(1000);
        foreach (var register in new[] { nameof(TdxMeasurementSet.Mrtd), nameof(TdxMeasurementSet.Rtmr0), nameof(TdxMeasurementSet.Rtmr1), nameof(TdxMeasurementSet.Rtmr2),
            nameof(TdxMeasurementSet.Rtmr3), nameof(TdxMeasurementSet.MrConfigId), nameof(TdxMeasurementSet.MrOwner), nameof(TdxMeasurementSet.MrOwnerConfig) })
        {
            builder.Property<string>(register).HasMaxLength(96).IsFixedLength();
        }

        builder.HasIndex(m => new { m.Mrtd, m.Rtmr0, m.Rtmr1, m.Rtmr2, m.Rtmr3, m.MrConfigId, m.MrOwner, m.MrOwnerConfig }).IsUnique();
    }
}

internal sealed class TdxCollateralConfiguration : IEntityTypeConfiguration<TdxCollateralDocument>
{
    public void Configure(EntityTypeBuilder<TdxCollateralDocument> builder)
    {
        builder.ToTable("tdx_collateral");
        builder.Property(d => d.Kind).HasConversion<string>().HasMaxLength(32);
        builder.Property(d => d.Fmspc).HasMaxLength(12);
        builder.Property(d => d.Source).HasMaxLength(300);
        builder.HasIndex(d => new { d.Kind, d.Fmspc }).IsUnique();
    }
}

internal sealed class AttestationPolicyConfiguration : IEntityTypeConfiguration<AttestationPolicy>
{
    public void Configure(EntityTypeBuilder<AttestationPolicy> builder)
    {
        builder.ToTable("attestation_policy");
        builder.Property(p => p.Id).ValueGeneratedNever();
    }
}
