namespace Cocoon.Agent.Connection;

public sealed class PairingFailedException(string message) : Exception(message);
