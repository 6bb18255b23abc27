namespace Cocoon.Agent.Inference;

/// <summary>A model that cannot be loaded or run; the message names what is wrong and where.</summary>
public sealed class ModelException(string message) : Exception(message);
