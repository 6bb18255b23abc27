using Cocoon.Web.Features.Blobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class UploadConfiguration : IEntityTypeConfiguration<Upload>
{
    public void Configure(EntityTypeBuilder<Upload> builder)
    {
        builder.ToTable("uploads");
        builder.Property(u => u.Id).ValueGeneratedNever();
        builder.HasIndex(u => new { u.AccountId, u.CompletedAt });
        builder.HasIndex(u => u.ExpiresAt).HasFilter("completed_at IS NULL");
    }
}

internal sealed class StoredBlobConfiguration : IEntityTypeConfiguration<StoredBlob>
{
    public void Configure(EntityTypeBuilder<StoredBlob> builder)
    {
        builder.ToTable("blobs");
        builder.Property(b => b.Id).ValueGeneratedNever();
        builder.Property(b => b.Digest).HasMaxLength(64);
        builder.HasIndex(b => b.Digest);
        builder.HasIndex(b => b.AccountId);
        builder.HasIndex(b => b.LeaseId).IsUnique();
    }
}
