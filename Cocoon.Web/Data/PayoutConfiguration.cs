using Cocoon.Web.Features.Payouts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cocoon.Web.Data;

internal sealed class PayoutSettingsConfiguration : IEntityTypeConfiguration<PayoutSettings>
{
    public void Configure(EntityTypeBuilder<PayoutSettings> builder)
    {
        builder.ToTable("payout_settings", t => t.HasCheckConstraint("ck_payout_settings_threshold", "threshold >= 1000000000"));
        builder.HasKey(s => s.AccountId);
        builder.Property(s => s.Wallet).HasMaxLength(80);
        builder.HasOne<Features.Identity.Account>().WithOne().HasForeignKey<PayoutSettings>(s => s.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PayoutItemConfiguration : IEntityTypeConfiguration<PayoutItem>
{
    public void Configure(EntityTypeBuilder<PayoutItem> builder)
    {
        builder.ToTable("payout_items", t =>
        {
            t.HasCheckConstraint("ck_payout_items_amount", "amount > 0");
            // Paid means exactly one confirming transfer and transaction; payable means none.
            t.HasCheckConstraint("ck_payout_items_paid", "(state = 'Paid') = (paid_transfer_id IS NOT NULL AND paid_tx_hash IS NOT NULL)");
            t.HasCheckConstraint("ck_payout_items_sending", "transfer_id IS NULL OR (state = 'Payable' AND batch_id IS NOT NULL)");
        });
        builder.Property(i => i.Wallet).HasMaxLength(80);
        builder.Property(i => i.PaidTxHash).HasMaxLength(64);
        builder.Property(i => i.OutMessageHash).HasMaxLength(64);
        builder.Property(i => i.Note).HasMaxLength(400);
        builder.HasIndex(i => new { i.AccountId, i.CreatedAt });
        builder.HasIndex(i => i.BatchId);
        builder.HasIndex(i => i.TransferId);
        builder.HasIndex(i => i.State).HasFilter("state = 'Payable'");
        builder.HasOne<PayoutBatch>().WithMany().HasForeignKey(i => i.BatchId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PayoutTransfer>().WithMany().HasForeignKey(i => i.TransferId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PayoutTransfer>().WithMany().HasForeignKey(i => i.PaidTransferId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PayoutBatchConfiguration : IEntityTypeConfiguration<PayoutBatch>
{
    public void Configure(EntityTypeBuilder<PayoutBatch> builder)
    {
        // Maker and checker are two people; the trigger in the migration checks both are Finance at the decision.
        builder.ToTable("payout_batches", t => t.HasCheckConstraint("ck_payout_batches_four_eyes", "decided_by IS NULL OR decided_by <> created_by"));
        builder.Property(b => b.DecisionNote).HasMaxLength(1000);
        builder.HasIndex(b => new { b.State, b.CreatedAt });
    }
}

internal sealed class PayoutTransferConfiguration : IEntityTypeConfiguration<PayoutTransfer>
{
    public void Configure(EntityTypeBuilder<PayoutTransfer> builder)
    {
        builder.ToTable("payout_transfers");
        builder.HasIndex(t => t.NormalizedHash).IsUnique();
        builder.HasIndex(t => t.BatchId);
        builder.HasIndex(t => t.State).HasFilter("state = 'Pending'");
        builder.Property(t => t.ChainTxHash).HasMaxLength(64);
        builder.Property(t => t.Failure).HasMaxLength(400);
        builder.HasOne<PayoutBatch>().WithMany().HasForeignKey(t => t.BatchId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PayoutAuditConfiguration : IEntityTypeConfiguration<PayoutAudit>
{
    public void Configure(EntityTypeBuilder<PayoutAudit> builder)
    {
        builder.ToTable("payout_audit");
        builder.Property(a => a.Action).HasMaxLength(40);
        builder.Property(a => a.Detail).HasMaxLength(1000);
        builder.HasIndex(a => a.At);
        builder.HasIndex(a => a.BatchId);
    }
}

internal sealed class ReconciliationRunConfiguration : IEntityTypeConfiguration<ReconciliationRun>
{
    public void Configure(EntityTypeBuilder<ReconciliationRun> builder)
    {
        builder.ToTable("reconciliation_runs");
        builder.Property(r => r.Lines).HasColumnType("jsonb");
        builder.HasIndex(r => r.RunAt);
    }
}
