namespace Cocoon.Web.Features.Identity;

/// <summary>A role change that is not allowed; the message says why.</summary>
public sealed class InvalidRoleChangeException(string message) : Exception(message);
