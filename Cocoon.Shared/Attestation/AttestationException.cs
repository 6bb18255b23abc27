namespace Cocoon.Shared.Attestation;

/// <summary>Evidence that does not prove what it claims; the message says why, in words an operator can act on.</summary>
public sealed class AttestationException(string message) : Exception(message);
