using Cocoon.Shared.Attestation;

namespace Cocoon.Shared.Agents;

/// <summary>The first call an agent makes on every connection: who it is and what it can do.</summary>
public sealed record AgentHello
{
    /// <summary>The agent's stable id, kept in its data directory across restarts.</summary>
    public required Guid AgentId { get; init; }

    /// <summary>A name its owner recognises (defaults to the host name).</summary>
    public required string Name { get; init; }

    /// <summary>The protocol version the agent speaks (<see cref="AgentProtocol.Version"/>).</summary>
    public required int ProtocolVersion { get; init; }

    /// <summary>The agent's build version, for display.</summary>
    public required string AgentVersion { get; init; }

    /// <summary>The device the agent runs work on.</summary>
    public required DeviceInfo Device { get; init; }

    /// <summary>Every accelerator the agent found, the chosen one included.</summary>
    public required IReadOnlyList<DeviceInfo> AllDevices { get; init; }

    /// <summary>How many work units the agent holds at once (one running, the rest queued).</summary>
    public required int Capacity { get; init; }

    /// <summary>Leases the agent still works on or holds results for (after a reconnect).</summary>
    public required IReadOnlyList<Guid> HeldLeases { get; init; }

    /// <summary>The enclave key this agent process made at start and the evidence binding it; null when it offers none.</summary>
    public EnclaveEvidence? Enclave { get; init; }
}
