namespace Cocoon.Shared.Sealing;

/// <summary>
/// Sealed data that does not authenticate: altered, truncated, reordered, for another recipient, or
/// not a sealed envelope at all. No plaintext comes out of an operation that throws this.
/// </summary>
public sealed class SealedDataException(string message) : Exception(message);
