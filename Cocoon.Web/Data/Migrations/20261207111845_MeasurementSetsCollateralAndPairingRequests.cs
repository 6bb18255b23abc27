using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class MeasurementSetsCollateralAndPairingRequests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // An MRTD alone is not a measurement set: agents attested by one lose their attestation
            // and are judged afresh (whole-guest sets, Intel's collateral) when they next register.
            migrationBuilder.Sql("UPDATE agents SET enclave_public_key = NULL, evidence_kind = NULL, attested_at = NULL WHERE evidence_kind = 'Tdx'");

            migrationBuilder.DropTable(
                name: "tdx_measurements");

            migrationBuilder.DropColumn(
                name: "measurement",
                table: "agents");

            migrationBuilder.AddColumn<string>(
                name: "tcb_status",
                table: "agents",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "measurement_set_id",
                table: "agents",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "attestation_policy",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    accept_sw_hardening_needed = table.Column<bool>(type: "boolean", nullable: false),
                    changed_by_account_id = table.Column<Guid>(type: "uuid", nullable: true),
                    changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_attestation_policy", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "pairing_requests",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_code = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    agent_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    machine = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    device = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    agent_version = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    requested_from = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_pairing_requests", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "tdx_collateral",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    fmspc = table.Column<string>(type: "character varying(12)", maxLength: 12, nullable: false),
                    body = table.Column<byte[]>(type: "bytea", nullable: false),
                    issuer_chain_pem = table.Column<string>(type: "text", nullable: false),
                    source = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    stored_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    issue_date = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    next_update = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    evaluation_data_number = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tdx_collateral", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "tdx_measurement_sets",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    note = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    mrtd = table.Column<string>(type: "character(96)", fixedLength: true, maxLength: 96, nullable: false),
                    rtmr0 = table.Column<string>(type: "character(96)", fixedLength: true, maxLength: 96, nullable: false),
                    rtmr1 = table.Column<string>(type: "character(96)", fixedLength: true, maxLength: 96, nullable: false),
                    rtmr2 = table.Column<string>(type: "character(96)", fixedLength: true, maxLength: 96, nullable: false),
                    rtmr3 = table.Column<string>(type: "character(96)", fixedLength: true, maxLength: 96, nullable: false),
                    mr_config_id = table.Column<string>(type: "character(96)", fixedLength: true, maxLength: 96, nullable: false),
                    mr_owner = table.Column<string>(type: "character(96)", fixedLength: true, maxLength: 96, nullable: false),
                    mr_owner_config = table.Column<string>(type: "character(96)", fixedLength: true, maxLength: 96, nullable: false),
                    added_by_account_id = table.Column<Guid>(type: "uuid", nullable: true),
                    added_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tdx_measurement_sets", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_pairing_requests_expires_at",
                table: "pairing_requests",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_pairing_requests_user_code",
                table: "pairing_requests",
                column: "user_code");

            migrationBuilder.CreateIndex(
                name: "ix_tdx_collateral_kind_fmspc",
                table: "tdx_collateral",
                columns: new[] { "kind", "fmspc" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_tdx_measurement_sets_mrtd_rtmr0_rtmr1_rtmr2_rtmr3_mr_config",
                table: "tdx_measurement_sets",
                columns: new[] { "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mr_config_id", "mr_owner", "mr_owner_config" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "attestation_policy");

            migrationBuilder.DropTable(
                name: "pairing_requests");

            migrationBuilder.DropTable(
                name: "tdx_collateral");

            migrationBuilder.DropTable(
                name: "tdx_measurement_sets");

            migrationBuilder.DropColumn(
                name: "measurement_set_id",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "tcb_status",
                table: "agents");

            migrationBuilder.AddColumn<string>(
                name: "measurement",
                table: "agents",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "tdx_measurements",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    added_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    added_by_account_id = table.Column<Guid>(type: "uuid", nullable: true),
                    label = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    mrtd = table.Column<string>(type: "character varying(96)", maxLength: 96, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tdx_measurements", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_tdx_measurements_mrtd",
                table: "tdx_measurements",
                column: "mrtd",
                unique: true);
        }
    }
}
