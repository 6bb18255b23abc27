namespace Cocoon.Agent.Connection;

/// <summary>Why the agent stopped on its own, if it did; the CLI turns it into a message and exit code.</summary>
public sealed class AgentRunState
{
    public string? FatalError { get; private set; }

    public void Fail(string message) => FatalError ??= message;
}
