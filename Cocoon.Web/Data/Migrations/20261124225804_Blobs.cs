using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class Blobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "blobs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    length = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_blobs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "uploads",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    length = table.Column<long>(type: "bigint", nullable: false),
                    received = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    blob_id = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_uploads", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_blobs_account_id",
                table: "blobs",
                column: "account_id");

            migrationBuilder.CreateIndex(
                name: "ix_blobs_digest",
                table: "blobs",
                column: "digest");

            migrationBuilder.CreateIndex(
                name: "ix_uploads_account_id_completed_at",
                table: "uploads",
                columns: new[] { "account_id", "completed_at" });

            migrationBuilder.CreateIndex(
                name: "ix_uploads_expires_at",
                table: "uploads",
                column: "expires_at",
                filter: "completed_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "blobs");

            migrationBuilder.DropTable(
                name: "uploads");
        }
    }
}
