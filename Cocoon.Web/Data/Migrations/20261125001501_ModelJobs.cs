using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class ModelJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "output_blob_id",
                table: "work_units",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "dataset_asset_id",
                table: "jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "kind",
                table: "jobs",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<Guid>(
                name: "model_asset_id",
                table: "jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "output_recipient_key",
                table: "jobs",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "attested_at",
                table: "agents",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "enclave_public_key",
                table: "agents",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "evidence_kind",
                table: "agents",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "evidence_signature",
                table: "agents",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "evidence_statement",
                table: "agents",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "measurement",
                table: "agents",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "key_grants",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    agent_id = table.Column<Guid>(type: "uuid", nullable: false),
                    enclave_public_key = table.Column<byte[]>(type: "bytea", nullable: false),
                    model_grant = table.Column<byte[]>(type: "bytea", nullable: false),
                    dataset_grant = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_key_grants", x => x.id);
                    table.ForeignKey(
                        name: "fk_key_grants_agents_agent_id",
                        column: x => x.agent_id,
                        principalTable: "agents",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_key_grants_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_dataset_asset_id",
                table: "jobs",
                column: "dataset_asset_id");

            migrationBuilder.CreateIndex(
                name: "ix_jobs_model_asset_id",
                table: "jobs",
                column: "model_asset_id");

            migrationBuilder.CreateIndex(
                name: "ix_key_grants_agent_id",
                table: "key_grants",
                column: "agent_id");

            migrationBuilder.CreateIndex(
                name: "ix_key_grants_job_id_agent_id",
                table: "key_grants",
                columns: new[] { "job_id", "agent_id" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "fk_jobs_assets_dataset_asset_id",
                table: "jobs",
                column: "dataset_asset_id",
                principalTable: "assets",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);

            migrationBuilder.AddForeignKey(
                name: "fk_jobs_assets_model_asset_id",
                table: "jobs",
                column: "model_asset_id",
                principalTable: "assets",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_jobs_assets_dataset_asset_id",
                table: "jobs");

            migrationBuilder.DropForeignKey(
                name: "fk_jobs_assets_model_asset_id",
                table: "jobs");

            migrationBuilder.DropTable(
                name: "key_grants");

            migrationBuilder.DropIndex(
                name: "ix_jobs_dataset_asset_id",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "ix_jobs_model_asset_id",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "output_blob_id",
                table: "work_units");

            migrationBuilder.DropColumn(
                name: "dataset_asset_id",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "kind",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "model_asset_id",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "output_recipient_key",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "attested_at",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "enclave_public_key",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "evidence_kind",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "evidence_signature",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "evidence_statement",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "measurement",
                table: "agents");
        }
    }
}
