using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class LeaseDeadlinesAndQuarantine : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "deadline",
                table: "leases",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            // Leases running when the portal upgrades get the longest default deadline from now, not year 1.
            migrationBuilder.Sql("UPDATE leases SET deadline = GREATEST(expires_at, now()) + interval '2 hours';");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_progress_at",
                table: "leases",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.Sql("UPDATE leases SET last_progress_at = GREATEST(issued_at, now());");

            migrationBuilder.AddColumn<bool>(
                name: "model_error",
                table: "leases",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "quarantine_lifted_at",
                table: "agents",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "quarantine_reason",
                table: "agents",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "quarantined_at",
                table: "agents",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "deadline",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "last_progress_at",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "model_error",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "quarantine_lifted_at",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "quarantine_reason",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "quarantined_at",
                table: "agents");
        }
    }
}
