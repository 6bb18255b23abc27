using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Cocoon.Web.Features.Agents;

/// <summary>
/// The agents' hub (<see cref="AgentProtocol.HubPath"/>). Only a paired agent's access token gets in,
/// and a connection speaks for the agent its token names; every call but registration needs a
/// registered connection.
/// </summary>
[Authorize(Policy = CocoonPolicies.Agent)]
public sealed class AgentHub(AgentRegistry registry, IAgentWork work, AgentConnections connections) : Hub<IAgentClient>, IAgentHub
{
    private const string AgentIdKey = "cocoon.agent-id";
    private const string ChallengeKey = "cocoon.challenge";

    public override async Task OnConnectedAsync()
    {
        connections.Add(TokenAgentId, Context);
        await base.OnConnectedAsync();
    }

    public Task<AttestationChallenge> ChallengeAsync()
    {
        var challenge = registry.NewChallenge();
        Context.Items[ChallengeKey] = challenge;
        return Task.FromResult(new AttestationChallenge { Nonce = challenge.Nonce });
    }

    public async Task<AgentWelcome> RegisterAsync(AgentHello hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        if (hello.AgentId != TokenAgentId)
        {
            throw new HubException($"{AgentProtocol.RefusalPrefix}it says it is agent {hello.AgentId} but its credentials belong to agent {TokenAgentId}.");
        }

        // A nonce answers one registration: taken here whether or not the evidence holds.
        var challenge = Context.Items.Remove(ChallengeKey, out var item) ? item as IssuedChallenge : null;
        var welcome = await registry.RegisterAsync(hello, challenge, Context.ConnectionId, Context.ConnectionAborted);
        Context.Items[AgentIdKey] = hello.AgentId;
        return welcome;
    }

    public Task HeartbeatAsync(AgentHeartbeat heartbeat) =>
        registry.HeartbeatAsync(AgentId, Context.ConnectionId, heartbeat, Context.ConnectionAborted);

    public Task ReportProgressAsync(UnitProgress progress) =>
        work.RecordProgressAsync(AgentId, progress, Context.ConnectionAborted);

    public Task<ResultAck> ReportResultAsync(UnitResult result) =>
        work.AcceptResultAsync(AgentId, result, CancellationToken.None);

    public Task<ResultAck> ReportFailureAsync(UnitFailure failure) =>
        work.AcceptFailureAsync(AgentId, failure, CancellationToken.None);

    public Task ReportBenchmarkAsync(AgentBenchmark benchmark) =>
        registry.RecordBenchmarkAsync(AgentId, benchmark, Context.ConnectionAborted);

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        connections.Remove(Context.ConnectionId);
        if (Context.Items.TryGetValue(AgentIdKey, out var id) && id is Guid agentId)
        {
            await registry.DisconnectedAsync(agentId, Context.ConnectionId);
        }

        await base.OnDisconnectedAsync(exception);
    }

    private Guid TokenAgentId => AgentClaims.AgentId(Context.User)
        ?? throw new HubException("The access token does not name an agent.");

    private Guid AgentId => Context.Items.TryGetValue(AgentIdKey, out var id) && id is Guid agentId
        ? agentId
        : throw new HubException("Call RegisterAsync before any other method on this connection.");
}
