using Cocoon.Shared.Attestation;

namespace Cocoon.Shared.Agents;

/// <summary>An agent as the API shows it.</summary>
public sealed record AgentView
{
    /// <summary>Why the agent gets no work (it failed or abandoned too many of its recent units); null when it takes work.</summary>
    public string? QuarantineReason { get; init; }

    /// <summary>The agent's id.</summary>
    public required Guid Id { get; init; }

    /// <summary>The agent's name.</summary>
    public required string Name { get; init; }

    /// <summary>Connected and heartbeating.</summary>
    public required bool Online { get; init; }

    /// <summary>The device it runs work on.</summary>
    public required string DeviceName { get; init; }

    /// <summary>CUDA, OpenCL or CPU.</summary>
    public required DeviceKind DeviceKind { get; init; }

    /// <summary>Device memory in bytes.</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>Multiprocessors or worker groups.</summary>
    public required int ComputeUnits { get; init; }

    /// <summary>Units the agent holds at once.</summary>
    public required int Capacity { get; init; }

    /// <summary>Units it holds now.</summary>
    public required int ActiveUnits { get; init; }

    /// <summary>Last sign of life.</summary>
    public DateTimeOffset? LastHeartbeatAt { get; init; }

    /// <summary>The provider's wallet (user-friendly), or null for the portal's own local agent.</summary>
    public string? Owner { get; init; }

    /// <summary>When the agent was paired with its owner.</summary>
    public DateTimeOffset? PairedAt { get; init; }

    /// <summary>When its pairing was revoked; revoked agents cannot connect.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>The enclave key of the agent's running process (65 bytes, base64 in JSON); null when it offered none.</summary>
    public byte[]? EnclaveKey { get; init; }

    /// <summary>What vouches for the enclave key; null when nothing does.</summary>
    public EvidenceKind? Evidence { get; init; }

    /// <summary>True only when the evidence is hardware attestation (TDX) the portal verified.</summary>
    public bool HardwareAttested => Evidence == EvidenceKind.Tdx;

    /// <summary>The agent's benchmark score (GFLOP/s, geometric mean of the reference models at batch 32); null until it reports one.</summary>
    public double? BenchmarkScore { get; init; }

    /// <summary>The share of its recent units (the last 50 that ended by its own doing) it completed, smoothed: a new agent starts at one half.</summary>
    public double Reputation { get; init; } = 0.5;

    /// <summary>How many units its reputation weighs (0 to 50).</summary>
    public int ReputationUnits { get; init; }

    /// <summary>When the evidence was last checked (at the agent's last registration).</summary>
    public DateTimeOffset? AttestedAt { get; init; }
}
