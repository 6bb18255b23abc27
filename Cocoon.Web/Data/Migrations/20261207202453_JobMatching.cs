using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class JobMatching : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "attested_only",
                table: "jobs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "device_class",
                table: "jobs",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "Any");

            migrationBuilder.AddColumn<double>(
                name: "min_benchmark_score",
                table: "jobs",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "min_memory_bytes",
                table: "jobs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<double>(
                name: "min_reputation",
                table: "jobs",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "strategy",
                table: "jobs",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "Balanced");

            migrationBuilder.CreateIndex(
                name: "ix_leases_agent_id_issued_at",
                table: "leases",
                columns: new[] { "agent_id", "issued_at" });

            // An agent's reputation, in one place for matching, the job page and the Agents page: its last
            // 50 leases that ended by its own doing (succeeded, failed, expired, lost; not cancelled or
            // superseded), smoothed so a new agent starts at one half: (succeeded + 1) / (finished + 2).
            migrationBuilder.Sql("""
                CREATE VIEW agent_reputations AS
                SELECT a.id AS agent_id, r.succeeded, r.finished, (r.succeeded + 1)::float8 / (r.finished + 2) AS score
                FROM agents a
                CROSS JOIN LATERAL (
                    SELECT (count(*) FILTER (WHERE x.outcome = 'Succeeded'))::int AS succeeded, count(*)::int AS finished
                    FROM (SELECT l.outcome FROM leases l
                          WHERE l.agent_id = a.id AND l.outcome IN ('Succeeded', 'Failed', 'Expired', 'AgentLost')
                          ORDER BY l.issued_at DESC LIMIT 50) x) r
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP VIEW IF EXISTS agent_reputations");

            migrationBuilder.DropIndex(
                name: "ix_leases_agent_id_issued_at",
                table: "leases");

            migrationBuilder.DropColumn(
                name: "attested_only",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "device_class",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "min_benchmark_score",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "min_memory_bytes",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "min_reputation",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "strategy",
                table: "jobs");
        }
    }
}
