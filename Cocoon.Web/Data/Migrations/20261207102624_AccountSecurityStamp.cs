using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class AccountSecurityStamp : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "security_stamp",
                table: "accounts",
                type: "text",
                nullable: false,
                defaultValue: "");

            // Each existing account gets a stamp of its own; their sessions from before sign in again.
            migrationBuilder.Sql("UPDATE accounts SET security_stamp = md5(random()::text || id::text);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "security_stamp",
                table: "accounts");
        }
    }
}
