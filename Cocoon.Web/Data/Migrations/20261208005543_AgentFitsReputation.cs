using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class AgentFitsReputation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The agent's reputation is looked up inside, and only for a job that asks for one: callers had
            // each passed it in, computing it (the agent's last 50 leases) for every agent on every pick.
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS cocoon_agent_fits(jobs, agents, float8, bigint)");
            migrationBuilder.Sql("""
                CREATE FUNCTION cocoon_agent_fits(j jobs, a agents, default_price bigint) RETURNS boolean
                LANGUAGE sql STABLE AS $$
                    SELECT (j.kind = 'MatMul' OR EXISTS (SELECT 1 FROM key_grants g WHERE g.job_id = j.id AND g.agent_id = a.id AND g.enclave_public_key = a.enclave_public_key))
                       AND (j.max_price_per_tflop IS NULL OR coalesce(a.price_per_tflop, default_price) <= j.max_price_per_tflop)
                       AND (j.device_class = 'Any' OR (j.device_class = 'Cpu') = (a.device_kind = 'Cpu'))
                       AND a.memory_bytes >= j.min_memory_bytes
                       AND (NOT j.attested_only OR (a.evidence_kind = 'Tdx' AND a.measurement_set_id IS NOT NULL))
                       AND (j.min_benchmark_score IS NULL OR coalesce(a.benchmark_score, 0) >= j.min_benchmark_score)
                       AND (j.min_reputation IS NULL OR (SELECT r.score FROM agent_reputations r WHERE r.agent_id = a.id) >= j.min_reputation)
                $$
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS cocoon_agent_fits(jobs, agents, bigint)");
            migrationBuilder.Sql("""
                CREATE FUNCTION cocoon_agent_fits(j jobs, a agents, reputation float8, default_price bigint) RETURNS boolean
                LANGUAGE sql STABLE AS $$
                    SELECT (j.kind = 'MatMul' OR EXISTS (SELECT 1 FROM key_grants g WHERE g.job_id = j.id AND g.agent_id = a.id AND g.enclave_public_key = a.enclave_public_key))
                       AND (j.max_price_per_tflop IS NULL OR coalesce(a.price_per_tflop, default_price) <= j.max_price_per_tflop)
                       AND (j.device_class = 'Any' OR (j.device_class = 'Cpu') = (a.device_kind = 'Cpu'))
                       AND a.memory_bytes >= j.min_memory_bytes
                       AND (NOT j.attested_only OR (a.evidence_kind = 'Tdx' AND a.measurement_set_id IS NOT NULL))
                       AND (j.min_benchmark_score IS NULL OR coalesce(a.benchmark_score, 0) >= j.min_benchmark_score)
                       AND (j.min_reputation IS NULL OR reputation >= j.min_reputation)
                $$
                """);
        }
    }
}
