using Cocoon.Agent.Options;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.Connection;

/// <summary>Who this agent is, from the credentials pairing left in its data directory.</summary>
public sealed class AgentIdentity
{
    public AgentIdentity(IOptions<AgentOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        DataDirectory = options.Value.ResolveDataDirectory();
        Directory.CreateDirectory(DataDirectory);
        var credentials = PairedCredentials.Load(DataDirectory);
        AgentId = credentials.AgentId;
        ClientId = credentials.ClientId;
        PortalUri = new Uri(options.Value.PortalUrl.TrimEnd('/') + "/");
    }

    public Guid AgentId { get; }

    public string ClientId { get; }

    public Uri PortalUri { get; }

    public string DataDirectory { get; }
}
