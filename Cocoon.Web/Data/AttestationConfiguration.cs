using Cocoon.Web.Features.Attestation;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class TdxMeasurementConfiguration : IEntityTypeConfiguration<TdxMeasurement>
{
    public void Configure(EntityTypeBuilder<TdxMeasurement> builder)
    {
        builder.ToTable("tdx_measurements");
        builder.Property(m => m.Mrtd).HasMaxLength(96);
        builder.Property(m => m.Label).HasMaxLength(100);
        builder.HasIndex(m => m.Mrtd).IsUnique();
    }
}
