using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class FairShareAndRetry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "retried_at",
                table: "work_units",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "priority",
                table: "jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "retries",
                table: "jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "max_concurrent_units",
                table: "accounts",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "share_weight",
                table: "accounts",
                type: "integer",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.AddCheckConstraint(
                name: "ck_jobs_priority",
                table: "jobs",
                sql: "priority BETWEEN -10 AND 10");

            migrationBuilder.AddCheckConstraint(
                name: "ck_accounts_max_concurrent_units",
                table: "accounts",
                sql: "max_concurrent_units IS NULL OR max_concurrent_units >= 0");

            migrationBuilder.AddCheckConstraint(
                name: "ck_accounts_share_weight",
                table: "accounts",
                sql: "share_weight BETWEEN 1 AND 100");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_jobs_priority",
                table: "jobs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_accounts_max_concurrent_units",
                table: "accounts");

            migrationBuilder.DropCheckConstraint(
                name: "ck_accounts_share_weight",
                table: "accounts");

            migrationBuilder.DropColumn(
                name: "retried_at",
                table: "work_units");

            migrationBuilder.DropColumn(
                name: "priority",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "retries",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "max_concurrent_units",
                table: "accounts");

            migrationBuilder.DropColumn(
                name: "share_weight",
                table: "accounts");
        }
    }
}
