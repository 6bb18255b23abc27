using Cocoon.Web.Features.Assets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class AssetConfiguration : IEntityTypeConfiguration<Asset>
{
    public void Configure(EntityTypeBuilder<Asset> builder)
    {
        builder.ToTable("assets");
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Name).HasMaxLength(100);
        builder.Property(a => a.Version).HasMaxLength(40);
        builder.Property(a => a.Format).HasMaxLength(20);
        builder.Property(a => a.Digest).HasMaxLength(64);
        builder.HasIndex(a => new { a.OwnerAccountId, a.Kind, a.Name, a.Version }).IsUnique();
        builder.HasIndex(a => a.BlobId);
    }
}
