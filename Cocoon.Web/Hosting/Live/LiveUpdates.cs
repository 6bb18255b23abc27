namespace Cocoon.Web.Hosting.Live;

/// <summary>
/// In-process fan-out of "something changed" signals to the pages watching it; pages re-read what
/// they show, so a lost or merged signal costs nothing but a moment. Several portal nodes need a
/// pub/sub behind this (the Redis backplane), which is why it carries ids and not data.
/// </summary>
public sealed class LiveUpdates
{
    public event Action<LiveChange>? Changed;

    public void JobChanged(Guid jobId) => Changed?.Invoke(new LiveChange(LiveTopic.Job, jobId));

    public void AgentsChanged() => Changed?.Invoke(new LiveChange(LiveTopic.Agents, null));
}

public enum LiveTopic
{
    Job,
    Agents,
}

public readonly record struct LiveChange(LiveTopic Topic, Guid? JobId);
