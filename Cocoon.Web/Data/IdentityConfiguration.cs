using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Identity.ApiTokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> builder)
    {
        builder.ToTable("accounts");
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Address).HasMaxLength(80);
        builder.HasIndex(a => a.Address).IsUnique();
        builder.Property(a => a.FriendlyAddress).HasMaxLength(48);
        builder.Property(a => a.PublicKey).HasMaxLength(64);
        builder.Property(a => a.WalletVersion).HasMaxLength(20);
        builder.Property(a => a.EncryptionPublicKey).HasMaxLength(130);
        builder.Property(a => a.ShareWeight).HasDefaultValue(1);
        builder.ToTable("accounts", t =>
        {
            t.HasCheckConstraint("ck_accounts_share_weight", "share_weight BETWEEN 1 AND 100");
            t.HasCheckConstraint("ck_accounts_max_concurrent_units", "max_concurrent_units IS NULL OR max_concurrent_units >= 0");
        });
        builder.HasMany(a => a.Roles).WithOne().HasForeignKey(r => r.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AccountRoleConfiguration : IEntityTypeConfiguration<AccountRole>
{
    public void Configure(EntityTypeBuilder<AccountRole> builder)
    {
        builder.ToTable("account_roles");
        builder.HasKey(r => new { r.AccountId, r.Role });
    }
}

internal sealed class RoleChangeConfiguration : IEntityTypeConfiguration<RoleChange>
{
    public void Configure(EntityTypeBuilder<RoleChange> builder)
    {
        builder.ToTable("role_changes");
        builder.Property(c => c.Reason).HasMaxLength(200);
        builder.HasIndex(c => new { c.AccountId, c.At });
    }
}

internal sealed class ProofPayloadConfiguration : IEntityTypeConfiguration<ProofPayload>
{
    public void Configure(EntityTypeBuilder<ProofPayload> builder)
    {
        builder.ToTable("proof_payloads");
        builder.HasKey(p => p.Payload);
        builder.Property(p => p.Payload).HasMaxLength(64);
        builder.HasIndex(p => p.ExpiresAt);
    }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.ToTable("api_tokens");
        builder.Property(t => t.Id).ValueGeneratedNever();
        builder.Property(t => t.Name).HasMaxLength(100);
        builder.Property(t => t.Prefix).HasMaxLength(16);
        builder.Property(t => t.Hash).HasMaxLength(64);
        builder.HasIndex(t => t.Hash).IsUnique();
        builder.HasIndex(t => t.AccountId);
    }
}
