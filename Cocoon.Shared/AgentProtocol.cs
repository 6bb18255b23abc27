namespace Cocoon.Shared;

/// <summary>Constants both the portal and the agent must agree on before they can talk.</summary>
public static class AgentProtocol
{
    /// <summary>
    /// The version of the agent protocol (hub methods and their records). The portal refuses an agent
    /// that speaks another version, and the agent stops with a message that says which side to update.
    /// Version 2: enclave evidence binds the agent id and a nonce from <c>ChallengeAsync</c>.
    /// Version 3: a model unit's result carries the signed digest of its plaintext output (<see cref="Work.OutputStatement"/>).
    /// </summary>
    public const int Version = 3;

    /// <summary>The path of the agent hub on the portal.</summary>
    public const string HubPath = "/hubs/agents";

    /// <summary>
    /// Starts the message of every hub error by which the portal refuses an agent for good (as opposed
    /// to a transient failure): the agent stops instead of retrying.
    /// </summary>
    public const string RefusalPrefix = "Cocoon portal refused this agent: ";
}
