namespace Cocoon.Shared.Work;

/// <summary>A finished unit: what came out, checked how, and how fast.</summary>
public sealed record UnitResult
{
    /// <summary>The lease the unit ran under.</summary>
    public required Guid LeaseId { get; init; }

    /// <summary>
    /// SHA-256 (lower-case hex): of the outputs, float32 little-endian in matrix order, for a matrix job;
    /// of the sealed output blob's ciphertext for a model job.
    /// </summary>
    public required string OutputDigest { get; init; }

    /// <summary>True when the device's output equalled the plain C# reference.</summary>
    public required bool Verified { get; init; }

    /// <summary>Floating-point operations executed on the device.</summary>
    public required long Flops { get; init; }

    /// <summary>Time spent on the device, in milliseconds.</summary>
    public required double DeviceMilliseconds { get; init; }

    /// <summary>Device throughput in GFLOP/s.</summary>
    public required double Gflops { get; init; }

    /// <summary>The device that ran the unit.</summary>
    public required string DeviceName { get; init; }

    /// <summary>The sealed output the agent uploaded for a model job; null for a matrix job.</summary>
    public Guid? OutputBlobId { get; init; }

    /// <summary>
    /// Model jobs: SHA-256 (lower-case hex) of the plaintext output (the safetensors file before sealing).
    /// Units run on several agents are checked by comparing it (<see cref="OutputStatement"/>).
    /// </summary>
    public string? PlainDigest { get; init; }

    /// <summary>Model jobs: the agent's signature over <see cref="OutputStatement.Bytes"/> with its pairing key (64 bytes, lower-case hex).</summary>
    public string? PlainDigestSignature { get; init; }
}
