using System.Security.Cryptography;
using Cocoon.Shared.Pairing;

namespace Cocoon.Agent.Connection;

/// <summary>
/// The agent's pairing files (<see cref="AgentCredentials"/>, shared with the portal, which writes them
/// for its local agent), read the way the agent needs them: missing or damaged ones stop it with a
/// sentence saying to pair again.
/// </summary>
public static class PairedCredentials
{
    /// <summary>The credentials, or null when the agent was never paired.</summary>
    /// <exception cref="AgentNotPairedException">The credentials file is damaged.</exception>
    public static AgentCredentials? TryLoad(string dataDirectory)
    {
        try
        {
            return AgentCredentials.TryLoad(dataDirectory);
        }
        catch (InvalidDataException ex)
        {
            throw new AgentNotPairedException($"{ex.Message} Pair the agent again with cocoon-agent pair.");
        }
    }

    public static AgentCredentials Load(string dataDirectory) =>
        TryLoad(dataDirectory) ?? throw new AgentNotPairedException(
            $"this agent is not paired with a portal (no {Path.Combine(dataDirectory, AgentCredentials.FileName)}): run cocoon-agent pair --portal URL first.");

    public static ECDsa LoadKey(string dataDirectory) =>
        AgentCredentials.TryLoadKey(dataDirectory) ?? throw new AgentNotPairedException(
            $"the agent's key {Path.Combine(dataDirectory, AgentCredentials.KeyFileName)} is missing; pair the agent again with cocoon-agent pair.");
}
