namespace Cocoon.Agent.Inference;

/// <summary>A model that cannot be loaded or run; the message names what is wrong and where.</summary>
public sealed class ModelException(string message, Exception? cause = null) : Exception(message, cause)
{
    /// <summary>
    /// The .NET exceptions a rule or kernel throws when inputs it did not check reach it (a bounds check,
    /// an overflow, an empty sequence): the model is refused with them, never the agent brought down.
    /// </summary>
    internal static bool IsBadInput(Exception ex) =>
        ex is ArgumentException or IndexOutOfRangeException or InvalidCastException or OverflowException or InvalidOperationException or DivideByZeroException;
}
