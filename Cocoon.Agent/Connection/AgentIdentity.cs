using Cocoon.Agent.Options;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.Connection;

/// <summary>The agent's stable id, kept in its data directory so a restart is the same agent.</summary>
public sealed class AgentIdentity
{
    public AgentIdentity(IOptions<AgentOptions> options)
    {
        DataDirectory = options.Value.ResolveDataDirectory();
        Directory.CreateDirectory(DataDirectory);
        var file = Path.Combine(DataDirectory, "agent-id");
        if (File.Exists(file) && Guid.TryParse(File.ReadAllText(file).Trim(), out var id))
        {
            AgentId = id;
        }
        else
        {
            AgentId = Guid.NewGuid();
            File.WriteAllText(file, AgentId.ToString());
        }
    }

    public Guid AgentId { get; }

    public string DataDirectory { get; }
}
