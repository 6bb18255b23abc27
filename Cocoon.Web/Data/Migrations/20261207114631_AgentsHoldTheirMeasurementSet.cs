using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class AgentsHoldTheirMeasurementSet : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_agents_measurement_set_id",
                table: "agents",
                column: "measurement_set_id");

            migrationBuilder.AddForeignKey(
                name: "fk_agents_tdx_measurement_set_measurement_set_id",
                table: "agents",
                column: "measurement_set_id",
                principalTable: "tdx_measurement_sets",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_agents_tdx_measurement_set_measurement_set_id",
                table: "agents");

            migrationBuilder.DropIndex(
                name: "ix_agents_measurement_set_id",
                table: "agents");
        }
    }
}
