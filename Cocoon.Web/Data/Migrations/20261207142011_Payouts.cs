using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class Payouts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "payout_audit",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor_id = table.Column<Guid>(type: "uuid", nullable: true),
                    action = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    batch_id = table.Column<Guid>(type: "uuid", nullable: true),
                    item_id = table.Column<Guid>(type: "uuid", nullable: true),
                    detail = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    total_before = table.Column<long>(type: "bigint", nullable: true),
                    total_after = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payout_audit", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "payout_batches",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created_by = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    decided_by = table.Column<Guid>(type: "uuid", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    decision_note = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    total = table.Column<long>(type: "bigint", nullable: false),
                    item_count = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payout_batches", x => x.id);
                    table.CheckConstraint("ck_payout_batches_four_eyes", "decided_by IS NULL OR decided_by <> created_by");
                });

            migrationBuilder.CreateTable(
                name: "payout_settings",
                columns: table => new
                {
                    account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    wallet = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    threshold = table.Column<long>(type: "bigint", nullable: false),
                    wallet_changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    hold_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payout_settings", x => x.account_id);
                    table.CheckConstraint("ck_payout_settings_threshold", "threshold >= 1000000000");
                    table.ForeignKey(
                        name: "fk_payout_settings_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "payout_transfers",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    batch_id = table.Column<Guid>(type: "uuid", nullable: false),
                    normalized_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    boc = table.Column<byte[]>(type: "bytea", nullable: false),
                    valid_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    submitted_by = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    chain_tx_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    settled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    failure = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payout_transfers", x => x.id);
                    table.ForeignKey(
                        name: "fk_payout_transfers_payout_batches_batch_id",
                        column: x => x.batch_id,
                        principalTable: "payout_batches",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "payout_items",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    wallet = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    amount = table.Column<long>(type: "bigint", nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    batch_id = table.Column<Guid>(type: "uuid", nullable: true),
                    transfer_id = table.Column<Guid>(type: "uuid", nullable: true),
                    paid_transfer_id = table.Column<Guid>(type: "uuid", nullable: true),
                    paid_tx_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    out_message_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    paid_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    delivered = table.Column<bool>(type: "boolean", nullable: false),
                    note = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payout_items", x => x.id);
                    table.CheckConstraint("ck_payout_items_amount", "amount > 0");
                    table.CheckConstraint("ck_payout_items_paid", "(state = 'Paid') = (paid_transfer_id IS NOT NULL AND paid_tx_hash IS NOT NULL)");
                    table.CheckConstraint("ck_payout_items_sending", "transfer_id IS NULL OR (state = 'Payable' AND batch_id IS NOT NULL)");
                    table.ForeignKey(
                        name: "fk_payout_items_payout_batches_batch_id",
                        column: x => x.batch_id,
                        principalTable: "payout_batches",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_payout_items_payout_transfer_paid_transfer_id",
                        column: x => x.paid_transfer_id,
                        principalTable: "payout_transfers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_payout_items_payout_transfer_transfer_id",
                        column: x => x.transfer_id,
                        principalTable: "payout_transfers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_payout_audit_at",
                table: "payout_audit",
                column: "at");

            migrationBuilder.CreateIndex(
                name: "ix_payout_audit_batch_id",
                table: "payout_audit",
                column: "batch_id");

            migrationBuilder.CreateIndex(
                name: "ix_payout_batches_state_created_at",
                table: "payout_batches",
                columns: new[] { "state", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_payout_items_account_id_created_at",
                table: "payout_items",
                columns: new[] { "account_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_payout_items_batch_id",
                table: "payout_items",
                column: "batch_id");

            migrationBuilder.CreateIndex(
                name: "ix_payout_items_paid_transfer_id",
                table: "payout_items",
                column: "paid_transfer_id");

            migrationBuilder.CreateIndex(
                name: "ix_payout_items_state",
                table: "payout_items",
                column: "state",
                filter: "state = 'Payable'");

            migrationBuilder.CreateIndex(
                name: "ix_payout_items_transfer_id",
                table: "payout_items",
                column: "transfer_id");

            migrationBuilder.CreateIndex(
                name: "ix_payout_transfers_batch_id",
                table: "payout_transfers",
                column: "batch_id");

            migrationBuilder.CreateIndex(
                name: "ix_payout_transfers_normalized_hash",
                table: "payout_transfers",
                column: "normalized_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_payout_transfers_state",
                table: "payout_transfers",
                column: "state",
                filter: "state = 'Pending'");

            // Maker and checker, held by the database: a batch moves only forward; whoever decides it is not its
            // maker and is Finance at that moment, and its maker is still Finance when it is approved; its maker
            // and totals never change; batches are never deleted.
            migrationBuilder.Sql("""
                CREATE FUNCTION payout_batches_four_eyes() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        RAISE EXCEPTION 'Payout batches are kept for good; they are not deleted';
                    END IF;
                    IF NEW.created_by <> OLD.created_by OR NEW.total <> OLD.total OR NEW.item_count <> OLD.item_count OR NEW.created_at <> OLD.created_at THEN
                        RAISE EXCEPTION 'A payout batch''s maker and totals do not change';
                    END IF;
                    IF NEW.state IS DISTINCT FROM OLD.state THEN
                        IF NOT ((OLD.state = 'Proposed' AND NEW.state IN ('Approved', 'Rejected')) OR (OLD.state = 'Approved' AND NEW.state = 'Paid')) THEN
                            RAISE EXCEPTION 'A payout batch cannot go from % to %', OLD.state, NEW.state;
                        END IF;
                        IF NEW.state IN ('Approved', 'Rejected') THEN
                            IF NEW.decided_by IS NULL OR NOT EXISTS (SELECT 1 FROM account_roles WHERE account_id = NEW.decided_by AND role = 'Finance') THEN
                                RAISE EXCEPTION 'Only a Finance user decides a payout batch';
                            END IF;
                            IF NEW.state = 'Approved' AND NOT EXISTS (SELECT 1 FROM account_roles WHERE account_id = NEW.created_by AND role = 'Finance') THEN
                                RAISE EXCEPTION 'The batch''s maker is no longer a Finance user, so it cannot be approved';
                            END IF;
                        END IF;
                    ELSIF NEW.decided_by IS DISTINCT FROM OLD.decided_by OR NEW.decision_note IS DISTINCT FROM OLD.decision_note THEN
                        RAISE EXCEPTION 'A payout batch''s decision does not change';
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER payout_batches_four_eyes BEFORE UPDATE OR DELETE ON payout_batches
                    FOR EACH ROW EXECUTE FUNCTION payout_batches_four_eyes();

                -- A batch starts proposed and undecided: nobody inserts one already approved.
                CREATE FUNCTION payout_batches_proposed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.state <> 'Proposed' OR NEW.decided_by IS NOT NULL OR NEW.decided_at IS NOT NULL THEN
                        RAISE EXCEPTION 'A payout batch starts proposed and undecided';
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER payout_batches_proposed BEFORE INSERT ON payout_batches
                    FOR EACH ROW EXECUTE FUNCTION payout_batches_proposed();

                CREATE FUNCTION payout_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'The payout audit log is append-only';
                END $$;
                CREATE TRIGGER payout_audit_append_only BEFORE UPDATE OR DELETE ON payout_audit
                    FOR EACH ROW EXECUTE FUNCTION payout_audit_append_only();
                CREATE TRIGGER payout_audit_no_truncate BEFORE TRUNCATE ON payout_audit
                    FOR EACH STATEMENT EXECUTE FUNCTION payout_audit_append_only();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS payout_audit_no_truncate ON payout_audit;
                DROP TRIGGER IF EXISTS payout_audit_append_only ON payout_audit;
                DROP FUNCTION IF EXISTS payout_audit_append_only();
                DROP TRIGGER IF EXISTS payout_batches_proposed ON payout_batches;
                DROP FUNCTION IF EXISTS payout_batches_proposed();
                DROP TRIGGER IF EXISTS payout_batches_four_eyes ON payout_batches;
                DROP FUNCTION IF EXISTS payout_batches_four_eyes();
                """);

            migrationBuilder.DropTable(
                name: "payout_audit");

            migrationBuilder.DropTable(
                name: "payout_items");

            migrationBuilder.DropTable(
                name: "payout_settings");

            migrationBuilder.DropTable(
                name: "payout_transfers");

            migrationBuilder.DropTable(
                name: "payout_batches");
        }
    }
}
