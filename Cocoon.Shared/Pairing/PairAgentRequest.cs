namespace Cocoon.Shared.Pairing;

/// <summary>
/// What a freshly authorised agent sends to <c>POST /api/agents/pair</c> with its device-flow token:
/// its name and the public half of the key it will sign client assertions with (the private half
/// never leaves its machine).
/// </summary>
public sealed record PairAgentRequest
{
    /// <summary>A name its owner recognises.</summary>
    public required string Name { get; init; }

    /// <summary>The P-256 public key's X coordinate, base64url (as in a JWK).</summary>
    public required string KeyX { get; init; }

    /// <summary>The P-256 public key's Y coordinate, base64url (as in a JWK).</summary>
    public required string KeyY { get; init; }
}
