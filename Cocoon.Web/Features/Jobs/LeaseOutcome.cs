namespace Cocoon.Web.Features.Jobs;

/// <summary>How a lease ended.</summary>
public enum LeaseOutcome
{
    /// <summary>Not ended: the agent holds the unit.</summary>
    Active = 0,

    /// <summary>The agent's result was counted.</summary>
    Succeeded = 1,

    /// <summary>The agent stopped renewing it in time.</summary>
    Expired = 2,

    /// <summary>The agent disconnected or went silent.</summary>
    AgentLost = 3,

    /// <summary>The agent reported a failure or an unverified result.</summary>
    Failed = 4,

    /// <summary>The unit was done under another lease first.</summary>
    Superseded = 5,

    /// <summary>Its job was cancelled or failed while the agent held it; nothing is charged.</summary>
    Cancelled = 6,
}
