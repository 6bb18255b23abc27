using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class LeaseJob : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_leases_work_unit_id_reserving",
                table: "leases");

            migrationBuilder.AddColumn<Guid>(
                name: "job_id",
                table: "leases",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            // Every lease so far takes its unit's job.
            migrationBuilder.Sql("UPDATE leases l SET job_id = u.job_id FROM work_units u WHERE u.id = l.work_unit_id;");

            migrationBuilder.CreateIndex(
                name: "ix_leases_job_id_reserving",
                table: "leases",
                column: "job_id",
                filter: "ended_at IS NULL OR awaiting_vote");

            migrationBuilder.AddForeignKey(
                name: "fk_leases_jobs_job_id",
                table: "leases",
                column: "job_id",
                principalTable: "jobs",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_leases_jobs_job_id",
                table: "leases");

            migrationBuilder.DropIndex(
                name: "ix_leases_job_id_reserving",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "job_id",
                table: "leases");

            migrationBuilder.CreateIndex(
                name: "ix_leases_work_unit_id_reserving",
                table: "leases",
                column: "work_unit_id",
                filter: "ended_at IS NULL OR awaiting_vote");
        }
    }
}
