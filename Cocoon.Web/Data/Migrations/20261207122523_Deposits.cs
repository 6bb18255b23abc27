using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class Deposits : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "owner_account_id",
                table: "ledger_transactions",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "deposit_codes",
                columns: table => new
                {
                    account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    code = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_deposit_codes", x => x.account_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_ledger_transactions_owner_account_id",
                table: "ledger_transactions",
                column: "owner_account_id");

            migrationBuilder.CreateIndex(
                name: "ix_deposit_codes_code",
                table: "deposit_codes",
                column: "code",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "deposit_codes");

            migrationBuilder.DropIndex(
                name: "ix_ledger_transactions_owner_account_id",
                table: "ledger_transactions");

            migrationBuilder.DropColumn(
                name: "owner_account_id",
                table: "ledger_transactions");
        }
    }
}
