using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace Cocoon.Web.Features.Agents;

/// <summary>The agent connections this portal node holds, so revoking an agent can cut it off at once.</summary>
public sealed class AgentConnections
{
    private readonly ConcurrentDictionary<string, (Guid AgentId, HubCallerContext Context)> _connections = new(StringComparer.Ordinal);

    public void Add(Guid agentId, HubCallerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _connections[context.ConnectionId] = (agentId, context);
    }

    public void Remove(string connectionId) => _connections.TryRemove(connectionId, out _);

    /// <summary>Closes every connection of the agent; returns how many there were.</summary>
    public int Abort(Guid agentId)
    {
        var aborted = 0;
        foreach (var (_, (id, context)) in _connections)
        {
            if (id == agentId)
            {
                context.Abort();
                aborted++;
            }
        }

        return aborted;
    }
}
