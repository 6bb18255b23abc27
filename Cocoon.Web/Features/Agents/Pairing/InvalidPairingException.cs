namespace Cocoon.Web.Features.Agents.Pairing;

public sealed class InvalidPairingException(string message) : Exception(message);
