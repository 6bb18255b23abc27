using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class LedgerPricesAndHolds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "charge_fixed",
                table: "leases",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<long>(
                name: "fee",
                table: "leases",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "price_per_tflop",
                table: "leases",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "reserved",
                table: "leases",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "budget",
                table: "jobs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "flops_per_row",
                table: "jobs",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "max_price_per_tflop",
                table: "jobs",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "price_per_tflop",
                table: "agents",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ledger_accounts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    code = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: false),
                    kind = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    owner_account_id = table.Column<Guid>(type: "uuid", nullable: true),
                    may_go_negative = table.Column<bool>(type: "boolean", nullable: false),
                    balance = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ledger_accounts", x => x.id);
                    table.CheckConstraint("ck_ledger_accounts_not_negative", "balance >= 0 OR may_go_negative");
                });

            migrationBuilder.CreateTable(
                name: "ledger_transactions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    reference = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    memo = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    job_id = table.Column<Guid>(type: "uuid", nullable: true),
                    agent_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ledger_transactions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "ledger_entries",
                columns: table => new
                {
                    seq = table.Column<long>(type: "bigint", nullable: false),
                    transaction_id = table.Column<Guid>(type: "uuid", nullable: false),
                    account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    amount = table.Column<long>(type: "bigint", nullable: false),
                    prev_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ledger_entries", x => x.seq);
                    table.ForeignKey(
                        name: "fk_ledger_entries_ledger_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "ledger_accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_ledger_entries_ledger_transaction_transaction_id",
                        column: x => x.transaction_id,
                        principalTable: "ledger_transactions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_ledger_accounts_code",
                table: "ledger_accounts",
                column: "code",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_ledger_accounts_owner_account_id",
                table: "ledger_accounts",
                column: "owner_account_id");

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_account_id_seq",
                table: "ledger_entries",
                columns: new[] { "account_id", "seq" });

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_transaction_id",
                table: "ledger_entries",
                column: "transaction_id");

            migrationBuilder.CreateIndex(
                name: "ix_ledger_transactions_agent_id",
                table: "ledger_transactions",
                column: "agent_id");

            migrationBuilder.CreateIndex(
                name: "ix_ledger_transactions_job_id",
                table: "ledger_transactions",
                column: "job_id");

            migrationBuilder.CreateIndex(
                name: "ix_ledger_transactions_kind_reference",
                table: "ledger_transactions",
                columns: new[] { "kind", "reference" },
                unique: true);

            // What the database, not C#, guarantees of the ledger: entries are numbered, chained and
            // append-only; balances move with them under the account's row lock; and at commit every
            // transaction's entries sum to zero.
            migrationBuilder.Sql("""
                CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME;
                END $$;

                CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
                    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
                CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
                    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
                CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
                    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
                CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
                    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

                CREATE FUNCTION ledger_chain_entry() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    last_seq bigint;
                    last_hash bytea;
                BEGIN
                    IF NEW.amount = 0 THEN
                        RAISE EXCEPTION 'a ledger entry moves a non-zero amount';
                    END IF;
                    -- The newest entry is read after the lock, which needs a fresh snapshot per statement.
                    IF current_setting('transaction_isolation') <> 'read committed' THEN
                        RAISE EXCEPTION 'ledger entries are posted under READ COMMITTED, not %', current_setting('transaction_isolation');
                    END IF;
                    -- One writer at a time numbers and chains entries (released at commit).
                    PERFORM pg_advisory_xact_lock(7955230118840321);
                    SELECT seq, hash INTO last_seq, last_hash FROM ledger_entries ORDER BY seq DESC LIMIT 1;
                    NEW.seq := coalesce(last_seq, 0) + 1;
                    NEW.prev_hash := coalesce(last_hash, ''::bytea);
                    NEW.hash := sha256(NEW.prev_hash || convert_to(
                        NEW.seq::text || '|' || NEW.transaction_id::text || '|' || NEW.account_id::text || '|' || NEW.amount::text, 'UTF8'));
                    UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
                    RETURN NEW;
                END $$;

                CREATE TRIGGER ledger_entries_chain BEFORE INSERT ON ledger_entries
                    FOR EACH ROW EXECUTE FUNCTION ledger_chain_entry();

                CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF (SELECT sum(amount) FROM ledger_entries WHERE transaction_id = NEW.transaction_id) <> 0 THEN
                        RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id;
                    END IF;
                    RETURN NULL;
                END $$;

                CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries;
                DROP TRIGGER IF EXISTS ledger_entries_chain ON ledger_entries;
                DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries;
                DROP TRIGGER IF EXISTS ledger_entries_no_truncate ON ledger_entries;
                DROP TRIGGER IF EXISTS ledger_transactions_append_only ON ledger_transactions;
                DROP TRIGGER IF EXISTS ledger_transactions_no_truncate ON ledger_transactions;
                DROP FUNCTION IF EXISTS ledger_check_balanced();
                DROP FUNCTION IF EXISTS ledger_chain_entry();
                DROP FUNCTION IF EXISTS ledger_refuse_change();
                """);

            migrationBuilder.DropTable(
                name: "ledger_entries");

            migrationBuilder.DropTable(
                name: "ledger_accounts");

            migrationBuilder.DropTable(
                name: "ledger_transactions");

            migrationBuilder.DropColumn(
                name: "charge_fixed",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "fee",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "price_per_tflop",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "reserved",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "budget",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "flops_per_row",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "max_price_per_tflop",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "price_per_tflop",
                table: "agents");
        }
    }
}
