using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Jobs;
using Microsoft.AspNetCore.SignalR;

namespace Cocoon.Web.Features.Agents;

/// <summary>The agents' hub (<see cref="AgentProtocol.HubPath"/>). Every call but registration needs a registered connection.</summary>
public sealed class AgentHub(AgentRegistry registry, UnitLifecycle lifecycle) : Hub<IAgentClient>, IAgentHub
{
    private const string AgentIdKey = "cocoon.agent-id";

    public async Task<AgentWelcome> RegisterAsync(AgentHello hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        var welcome = await registry.RegisterAsync(hello, Context.ConnectionId, Context.ConnectionAborted);
        Context.Items[AgentIdKey] = hello.AgentId;
        return welcome;
    }

    public Task HeartbeatAsync(AgentHeartbeat heartbeat) =>
        registry.HeartbeatAsync(AgentId, Context.ConnectionId, heartbeat, Context.ConnectionAborted);

    public Task ReportProgressAsync(UnitProgress progress) =>
        lifecycle.RecordProgressAsync(AgentId, progress, Context.ConnectionAborted);

    public Task<ResultAck> ReportResultAsync(UnitResult result) =>
        lifecycle.AcceptResultAsync(AgentId, result, CancellationToken.None);

    public Task<ResultAck> ReportFailureAsync(UnitFailure failure) =>
        lifecycle.AcceptFailureAsync(AgentId, failure, CancellationToken.None);

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue(AgentIdKey, out var id) && id is Guid agentId)
        {
            await registry.DisconnectedAsync(agentId, Context.ConnectionId);
        }

        await base.OnDisconnectedAsync(exception);
    }

    private Guid AgentId => Context.Items.TryGetValue(AgentIdKey, out var id) && id is Guid agentId
        ? agentId
        : throw new HubException("Call RegisterAsync before any other method on this connection.");
}
