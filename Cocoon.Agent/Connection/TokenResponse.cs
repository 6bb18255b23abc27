namespace Cocoon.Agent.Connection;

/// <summary>The token endpoint's answer: an access token, or the OAuth error and its description.</summary>
public sealed record TokenResponse(string? AccessToken, string? Error, string? ErrorDescription)
{
    public bool Refused => AccessToken is null;
}
