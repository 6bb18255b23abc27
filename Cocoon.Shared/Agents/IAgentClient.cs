using Cocoon.Shared.Work;

namespace Cocoon.Shared.Agents;

/// <summary>What the portal calls on a connected agent.</summary>
public interface IAgentClient
{
    /// <summary>A unit of work to run under the given lease.</summary>
    Task AssignAsync(WorkAssignment assignment);

    /// <summary>Stop working on a lease: its unit was done elsewhere or its job was cancelled.</summary>
    Task CancelAsync(Guid leaseId);
}
