using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class DispatchIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_work_units_job_id_active",
                table: "work_units",
                column: "job_id",
                filter: "state IN ('Leased', 'Running')");

            migrationBuilder.CreateIndex(
                name: "ix_work_units_pending_by_job",
                table: "work_units",
                columns: new[] { "job_id", "queued_at", "index" },
                filter: "state = 'Pending'");

            migrationBuilder.CreateIndex(
                name: "ix_leases_work_unit_id_reserving",
                table: "leases",
                column: "work_unit_id",
                filter: "ended_at IS NULL OR awaiting_vote");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_work_units_job_id_active",
                table: "work_units");

            migrationBuilder.DropIndex(
                name: "ix_work_units_pending_by_job",
                table: "work_units");

            migrationBuilder.DropIndex(
                name: "ix_leases_work_unit_id_reserving",
                table: "leases");
        }
    }
}
