namespace Cocoon.Web.Features.Identity.ApiTokens;

public sealed class InvalidApiTokenRequestException(IDictionary<string, string[]> errors) : Exception("The token request is invalid.")
{
    public IDictionary<string, string[]> Errors { get; } = errors;
}
