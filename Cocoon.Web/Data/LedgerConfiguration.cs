using Cocoon.Web.Features.Ledger;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class LedgerAccountConfiguration : IEntityTypeConfiguration<LedgerAccount>
{
    public void Configure(EntityTypeBuilder<LedgerAccount> builder)
    {
        builder.ToTable("ledger_accounts", t => t.HasCheckConstraint("ck_ledger_accounts_not_negative", "balance >= 0 OR may_go_negative"));
        builder.Property(a => a.Code).HasMaxLength(120);
        builder.Property(a => a.Kind).HasConversion<string>().HasMaxLength(40);
        builder.HasIndex(a => a.Code).IsUnique();
        builder.HasIndex(a => a.OwnerAccountId);
    }
}

internal sealed class LedgerTransactionConfiguration : IEntityTypeConfiguration<LedgerTransaction>
{
    public void Configure(EntityTypeBuilder<LedgerTransaction> builder)
    {
        builder.ToTable("ledger_transactions");
        builder.Property(t => t.Kind).HasMaxLength(40);
        builder.Property(t => t.Reference).HasMaxLength(200);
        builder.Property(t => t.Memo).HasMaxLength(400);
        builder.HasIndex(t => new { t.Kind, t.Reference }).IsUnique();
        builder.HasIndex(t => t.JobId);
        builder.HasIndex(t => t.AgentId);
        builder.HasIndex(t => t.OwnerAccountId);
    }
}

internal sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> builder)
    {
        builder.ToTable("ledger_entries");
        builder.HasKey(e => e.Seq);
        builder.Property(e => e.Seq).ValueGeneratedNever();
        builder.HasIndex(e => e.TransactionId);
        builder.HasIndex(e => new { e.AccountId, e.Seq });
        builder.HasOne<LedgerTransaction>().WithMany().HasForeignKey(e => e.TransactionId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<LedgerAccount>().WithMany().HasForeignKey(e => e.AccountId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class DepositCodeConfiguration : IEntityTypeConfiguration<Features.Money.Chain.DepositCode>
{
    public void Configure(EntityTypeBuilder<Features.Money.Chain.DepositCode> builder)
    {
        builder.ToTable("deposit_codes");
        builder.HasKey(c => c.AccountId);
        builder.Property(c => c.Code).HasMaxLength(40);
        builder.HasIndex(c => c.Code).IsUnique();
    }
}

internal sealed class DepositCursorConfiguration : IEntityTypeConfiguration<Features.Money.Chain.DepositCursor>
{
    public void Configure(EntityTypeBuilder<Features.Money.Chain.DepositCursor> builder)
    {
        builder.ToTable("deposit_cursor");
        builder.Property(c => c.Id).ValueGeneratedNever();
    }
}
