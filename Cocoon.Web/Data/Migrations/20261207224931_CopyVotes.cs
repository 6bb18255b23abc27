using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class CopyVotes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_work_units_job_id_index",
                table: "work_units");

            migrationBuilder.AddColumn<string>(
                name: "plain_digest",
                table: "work_units",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "plain_digest_signature",
                table: "work_units",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "replica",
                table: "work_units",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "vote",
                table: "work_units",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "Unchecked");

            migrationBuilder.AddColumn<bool>(
                name: "awaiting_vote",
                table: "leases",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "redundancy",
                table: "jobs",
                type: "integer",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.AddColumn<int>(
                name: "spot_check_percent",
                table: "jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "ix_work_units_job_id_index_replica",
                table: "work_units",
                columns: new[] { "job_id", "index", "replica" },
                unique: true);

            // Whether an agent may run this copy of a unit: never when it has had a lease on another copy
            // of the same unit, whatever became of it (a lost lease's late result still counts, so one
            // agent must never hold two copies), and only on the device kind its other copies run or ran
            // on (outputs are bit-identical only within one backend). A unit with no copies passes at once.
            migrationBuilder.Sql("""
                CREATE FUNCTION cocoon_copy_fits(w work_units, a agents) RETURNS boolean
                LANGUAGE sql STABLE AS $$
                    SELECT NOT EXISTS (
                        SELECT 1 FROM work_units s
                        JOIN leases l ON l.work_unit_id = s.id
                        JOIN agents o ON o.id = l.agent_id
                        WHERE s.job_id = w.job_id AND s.index = w.index AND s.id <> w.id
                          AND (o.id = a.id OR (o.device_kind <> a.device_kind AND (l.outcome = 'Active' OR l.id = s.current_lease_id))))
                $$
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS cocoon_copy_fits(work_units, agents)");

            migrationBuilder.DropIndex(
                name: "ix_work_units_job_id_index_replica",
                table: "work_units");

            migrationBuilder.DropColumn(
                name: "plain_digest",
                table: "work_units");

            migrationBuilder.DropColumn(
                name: "plain_digest_signature",
                table: "work_units");

            migrationBuilder.DropColumn(
                name: "replica",
                table: "work_units");

            migrationBuilder.DropColumn(
                name: "vote",
                table: "work_units");

            migrationBuilder.DropColumn(
                name: "awaiting_vote",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "redundancy",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "spot_check_percent",
                table: "jobs");

            migrationBuilder.CreateIndex(
                name: "ix_work_units_job_id_index",
                table: "work_units",
                columns: new[] { "job_id", "index" },
                unique: true);
        }
    }
}
