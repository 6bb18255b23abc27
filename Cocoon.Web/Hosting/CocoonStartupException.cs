namespace Cocoon.Web.Hosting;

/// <summary>A start-up failure the operator can fix; its message is one sentence naming what to do.</summary>
public sealed class CocoonStartupException(string message, Exception? inner = null) : Exception(message, inner);
