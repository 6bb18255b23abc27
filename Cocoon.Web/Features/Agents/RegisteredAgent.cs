using Cocoon.Shared.Agents;

namespace Cocoon.Web.Features.Agents;

/// <summary>A provider's agent as the portal knows it (the type is not called Agent: that is the agent project's namespace). Online means connected and heartbeating.</summary>
public sealed class RegisteredAgent
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public required string DeviceName { get; set; }

    public DeviceKind DeviceKind { get; set; }

    public long MemoryBytes { get; set; }

    public int ComputeUnits { get; set; }

    public int Capacity { get; set; }

    public required string AgentVersion { get; set; }

    public int ProtocolVersion { get; set; }

    /// <summary>The SignalR connection the agent is on; null when disconnected.</summary>
    public string? ConnectionId { get; set; }

    public DateTimeOffset FirstSeenAt { get; set; }

    public DateTimeOffset? ConnectedAt { get; set; }

    public DateTimeOffset? LastHeartbeatAt { get; set; }
}
