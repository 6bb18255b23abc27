using Cocoon.Shared.Agents;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Agents;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Jobs' side of the agents' hub: reports go to the unit lifecycle, new capacity to the dispatcher.</summary>
public sealed class AgentWork(UnitLifecycle lifecycle, Dispatcher dispatcher) : IAgentWork
{
    public Task RecordProgressAsync(Guid agentId, UnitProgress progress, CancellationToken cancellationToken) =>
        lifecycle.RecordProgressAsync(agentId, progress, cancellationToken);

    public Task<ResultAck> AcceptResultAsync(Guid agentId, UnitResult result, CancellationToken cancellationToken) =>
        lifecycle.AcceptResultAsync(agentId, result, cancellationToken);

    public Task<ResultAck> AcceptFailureAsync(Guid agentId, UnitFailure failure, CancellationToken cancellationToken) =>
        lifecycle.AcceptFailureAsync(agentId, failure, cancellationToken);

    public Task LeaseLostAsync(Guid leaseId, Guid agentId, string reason, CancellationToken cancellationToken) =>
        lifecycle.CloseLeaseAsync(leaseId, agentId, LeaseOutcome.AgentLost, reason, cancellationToken);

    public Task CapacityChangedAsync(CancellationToken cancellationToken = default) => dispatcher.RequestAsync(cancellationToken);
}
