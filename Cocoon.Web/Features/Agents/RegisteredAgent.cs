using Cocoon.Shared.Agents;
using Cocoon.Shared.Attestation;

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

    /// <summary>The provider's account the agent was paired with; null for the portal's own local agent.</summary>
    public Guid? OwnerAccountId { get; set; }

    /// <summary>The OAuth client the agent authenticates as (its public key is on that client).</summary>
    public string? ClientId { get; set; }

    public DateTimeOffset? PairedAt { get; set; }

    /// <summary>When the pairing was revoked; a revoked agent can no longer get tokens or connect.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The enclave key of the agent's current process (65 bytes); key grants are wrapped to it.</summary>
    public byte[]? EnclavePublicKey { get; set; }

    /// <summary>What vouched for <see cref="EnclavePublicKey"/>; null when the agent offered no evidence.</summary>
    public EvidenceKind? EvidenceKind { get; set; }

    /// <summary>The evidence as the agent sent it (statement or quote), kept so developers can check it themselves.</summary>
    public byte[]? EvidenceStatement { get; set; }

    public byte[]? EvidenceSignature { get; set; }

    /// <summary>TDX only: the allowed measurement set the quote matched; removing the set takes the attestation away.</summary>
    public Guid? MeasurementSetId { get; set; }

    /// <summary>TDX only: the platform's TCB status from Intel's collateral when it was attested (UpToDate, SWHardeningNeeded, …).</summary>
    public string? TcbStatus { get; set; }

    public DateTimeOffset? AttestedAt { get; set; }

    /// <summary>Its owner's price in nanotons per TFLOP executed; null until set (the configured default applies).</summary>
    public long? PricePerTflop { get; set; }

    /// <summary>The score the agent last reported from its own benchmark (GFLOP/s on the reference models).</summary>
    public double? BenchmarkScore { get; set; }

    /// <summary>When the agent was taken off work for failing or abandoning too many of its recent units; null when it takes work.</summary>
    public DateTimeOffset? QuarantinedAt { get; set; }

    /// <summary>Why, in words its owner can act on.</summary>
    public string? QuarantineReason { get; set; }

    /// <summary>When its owner or an admin last returned it to work: failures before then no longer count.</summary>
    public DateTimeOffset? QuarantineLiftedAt { get; set; }

    public DateTimeOffset? BenchmarkedAt { get; set; }
}
