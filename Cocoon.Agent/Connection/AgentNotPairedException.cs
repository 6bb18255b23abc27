namespace Cocoon.Agent.Connection;

/// <summary>The agent has no usable pairing; the message says what to run.</summary>
public sealed class AgentNotPairedException(string message) : Exception(message);
