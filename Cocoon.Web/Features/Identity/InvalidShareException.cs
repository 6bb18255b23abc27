namespace Cocoon.Web.Features.Identity;

/// <summary>An account's share of capacity was set out of range.</summary>
public sealed class InvalidShareException(string message) : Exception(message);
