using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "agents",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    device_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    device_kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    memory_bytes = table.Column<long>(type: "bigint", nullable: false),
                    compute_units = table.Column<int>(type: "integer", nullable: false),
                    capacity = table.Column<int>(type: "integer", nullable: false),
                    agent_version = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    protocol_version = table.Column<int>(type: "integer", nullable: false),
                    connection_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    first_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    connected_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_heartbeat_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "jobs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    matrix_size = table.Column<int>(type: "integer", nullable: false),
                    matrix_count = table.Column<int>(type: "integer", nullable: false),
                    matrices_per_unit = table.Column<int>(type: "integer", nullable: false),
                    seed = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    failure_reason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_jobs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "work_units",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    index = table.Column<int>(type: "integer", nullable: false),
                    first_matrix = table.Column<long>(type: "bigint", nullable: false),
                    matrix_count = table.Column<int>(type: "integer", nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    queued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    dispatch_requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    current_lease_id = table.Column<Guid>(type: "uuid", nullable: true),
                    agent_id = table.Column<Guid>(type: "uuid", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    matrices_done = table.Column<int>(type: "integer", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    output_digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    flops = table.Column<long>(type: "bigint", nullable: true),
                    device_milliseconds = table.Column<double>(type: "double precision", nullable: true),
                    gflops = table.Column<double>(type: "double precision", nullable: true),
                    last_error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_work_units", x => x.id);
                    table.ForeignKey(
                        name: "fk_work_units_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "leases",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    work_unit_id = table.Column<Guid>(type: "uuid", nullable: false),
                    agent_id = table.Column<Guid>(type: "uuid", nullable: false),
                    issued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ended_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    outcome = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_leases", x => x.id);
                    table.ForeignKey(
                        name: "fk_leases_agents_agent_id",
                        column: x => x.agent_id,
                        principalTable: "agents",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_leases_work_units_work_unit_id",
                        column: x => x.work_unit_id,
                        principalTable: "work_units",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_created_at",
                table: "jobs",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_jobs_state",
                table: "jobs",
                column: "state");

            migrationBuilder.CreateIndex(
                name: "ix_leases_agent_id",
                table: "leases",
                column: "agent_id",
                filter: "ended_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_leases_expires_at",
                table: "leases",
                column: "expires_at",
                filter: "ended_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_leases_work_unit_id",
                table: "leases",
                column: "work_unit_id");

            migrationBuilder.CreateIndex(
                name: "ix_work_units_job_id_index",
                table: "work_units",
                columns: new[] { "job_id", "index" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_work_units_queued_at",
                table: "work_units",
                column: "queued_at",
                filter: "state = 'Pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "leases");

            migrationBuilder.DropTable(
                name: "agents");

            migrationBuilder.DropTable(
                name: "work_units");

            migrationBuilder.DropTable(
                name: "jobs");
        }
    }
}
