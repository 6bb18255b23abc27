using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cocoon.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class AgentFits : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // A model an agent could not run is the model's fault, not the agent's (as quarantine judges
            // it): such a failure counts against its reputation only if the unit later succeeded elsewhere.
            migrationBuilder.Sql("""
                CREATE OR REPLACE VIEW agent_reputations AS
                SELECT a.id AS agent_id, r.succeeded, r.finished, (r.succeeded + 1)::float8 / (r.finished + 2) AS score
                FROM agents a
                CROSS JOIN LATERAL (
                    SELECT (count(*) FILTER (WHERE x.outcome = 'Succeeded'))::int AS succeeded, count(*)::int AS finished
                    FROM (SELECT l.outcome FROM leases l
                          WHERE l.agent_id = a.id AND l.outcome IN ('Succeeded', 'Failed', 'Expired', 'AgentLost')
                            AND NOT (l.model_error AND NOT EXISTS (SELECT 1 FROM work_units w WHERE w.id = l.work_unit_id AND w.state = 'Succeeded'))
                          ORDER BY l.issued_at DESC LIMIT 50) x) r
                """);

            // Whether an agent meets everything a job asks of the agents that run it: its key grant (model
            // jobs), price cap, device class, memory, attestation, benchmark score and reputation. Online,
            // quarantine and room are the caller's. One definition for picking an agent for a unit and for
            // choosing which units to dispatch at all (a unit no online agent fits takes no one's share).
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

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS cocoon_agent_fits(jobs, agents, float8, bigint)");
        }
    }
}
