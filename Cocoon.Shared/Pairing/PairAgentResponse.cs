namespace Cocoon.Shared.Pairing;

/// <summary>The portal's answer to a pairing: the agent's id and the OAuth client it authenticates as.</summary>
public sealed record PairAgentResponse
{
    /// <summary>The agent's id in the portal.</summary>
    public required Guid AgentId { get; init; }

    /// <summary>The client id for client-credentials token requests.</summary>
    public required string ClientId { get; init; }
}
