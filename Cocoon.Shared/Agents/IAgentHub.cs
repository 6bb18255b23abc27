using Cocoon.Shared.Work;

namespace Cocoon.Shared.Agents;

/// <summary>What an agent may call on the portal's agent hub (<see cref="AgentProtocol.HubPath"/>).</summary>
public interface IAgentHub
{
    /// <summary>
    /// A fresh nonce for this connection. An agent presenting enclave evidence asks for it first and
    /// binds it into the evidence (<see cref="Attestation.EvidenceBinding"/>); registration consumes it.
    /// </summary>
    Task<AttestationChallenge> ChallengeAsync();

    /// <summary>Handshake; must come first on every connection (after <see cref="ChallengeAsync"/>). Refused when the protocol versions differ.</summary>
    Task<AgentWelcome> RegisterAsync(AgentHello hello);

    /// <summary>Sign of life; renews the named leases.</summary>
    Task HeartbeatAsync(AgentHeartbeat heartbeat);

    /// <summary>Progress of a unit the agent is running (throttled by the agent).</summary>
    Task ReportProgressAsync(UnitProgress progress);

    /// <summary>A finished unit; the portal answers whether it counted it.</summary>
    Task<ResultAck> ReportResultAsync(UnitResult result);

    /// <summary>A unit the agent could not finish.</summary>
    Task<ResultAck> ReportFailureAsync(UnitFailure failure);

    /// <summary>The agent's benchmark of itself, measured after it started (portals before this method ignore it).</summary>
    Task ReportBenchmarkAsync(AgentBenchmark benchmark);
}
