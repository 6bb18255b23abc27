using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class Canaries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "canary",
                table: "work_units",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "disputes",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    work_unit_id = table.Column<Guid>(type: "uuid", nullable: false),
                    unit_index = table.Column<int>(type: "integer", nullable: false),
                    lease_id = table.Column<Guid>(type: "uuid", nullable: false),
                    agent_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    reported = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    expected = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    evidence = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_disputes", x => x.id);
                    table.ForeignKey(
                        name: "fk_disputes_agents_agent_id",
                        column: x => x.agent_id,
                        principalTable: "agents",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_disputes_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_disputes_agent_id",
                table: "disputes",
                column: "agent_id");

            migrationBuilder.CreateIndex(
                name: "ix_disputes_at",
                table: "disputes",
                column: "at");

            migrationBuilder.CreateIndex(
                name: "ix_disputes_job_id",
                table: "disputes",
                column: "job_id");

            migrationBuilder.CreateIndex(
                name: "ix_disputes_lease_id",
                table: "disputes",
                column: "lease_id",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "disputes");

            migrationBuilder.DropColumn(
                name: "canary",
                table: "work_units");
        }
    }
}
