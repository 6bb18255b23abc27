using System.Text.Json.Serialization;

namespace Cocoon.Web.Features.Identity.TonProof;

/// <summary>The body of <c>POST /api/auth/ton-proof</c>: the shape of TON Connect's demo backend, which wallet developers know.</summary>
public sealed record TonProofRequest
{
    [JsonPropertyName("address")]
    public string? Address { get; init; }

    /// <summary>"-239" (mainnet) or "-3" (testnet).</summary>
    [JsonPropertyName("network")]
    public string? Network { get; init; }

    [JsonPropertyName("public_key")]
    public string? PublicKey { get; init; }

    [JsonPropertyName("proof")]
    public TonProofItem? Proof { get; init; }
}

/// <summary>The wallet's signed <c>ton_proof</c> item, plus its state init.</summary>
public sealed record TonProofItem
{
    [JsonPropertyName("timestamp")]
    public long Timestamp { get; init; }

    [JsonPropertyName("domain")]
    public TonProofDomain? Domain { get; init; }

    [JsonPropertyName("payload")]
    public string? Payload { get; init; }

    [JsonPropertyName("signature")]
    public string? Signature { get; init; }

    [JsonPropertyName("state_init")]
    public string? StateInit { get; init; }
}

/// <summary>The app domain the wallet signed for.</summary>
public sealed record TonProofDomain
{
    [JsonPropertyName("lengthBytes")]
    public uint LengthBytes { get; init; }

    [JsonPropertyName("value")]
    public string? Value { get; init; }
}
