namespace Cocoon.Shared.Work;

/// <summary>What the portal did with a reported result or failure.</summary>
public enum ResultAck
{
    /// <summary>Counted: the unit is now done (or, for a failure, back in the queue).</summary>
    Accepted = 0,

    /// <summary>The unit had already been done under another lease; nothing was counted.</summary>
    AlreadyDone = 1,

    /// <summary>The portal knows no such lease; the agent should drop the report.</summary>
    UnknownLease = 2,

    /// <summary>The result was refused (for example, not verified); the unit goes back in the queue.</summary>
    Rejected = 3,
}
