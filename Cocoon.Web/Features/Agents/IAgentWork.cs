using Cocoon.Shared.Agents;
using Cocoon.Shared.Work;

namespace Cocoon.Web.Features.Agents;

/// <summary>
/// What the agents' hub hands to the feature that gives agents work (Jobs implements it): each
/// agent's reports on its units, the leases an agent lost by reconnecting or going away, and the
/// moments capacity appears. Agents owns the connection; it does not know what the work is.
/// </summary>
public interface IAgentWork
{
    Task RecordProgressAsync(Guid agentId, UnitProgress progress, CancellationToken cancellationToken);

    Task<ResultAck> AcceptResultAsync(Guid agentId, UnitResult result, CancellationToken cancellationToken);

    Task<ResultAck> AcceptFailureAsync(Guid agentId, UnitFailure failure, CancellationToken cancellationToken);

    /// <summary>The agent no longer holds this lease (it reconnected without it, or disconnected).</summary>
    Task LeaseLostAsync(Guid leaseId, Guid agentId, string reason, CancellationToken cancellationToken);

    /// <summary>An agent came online or freed capacity: work may be handed out.</summary>
    Task CapacityChangedAsync(CancellationToken cancellationToken = default);
}
