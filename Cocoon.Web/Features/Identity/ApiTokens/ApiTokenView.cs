namespace Cocoon.Web.Features.Identity.ApiTokens;

/// <summary>A token as its owner sees it later: never the secret.</summary>
public sealed record ApiTokenView(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public static ApiTokenView From(ApiToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return new(token.Id, token.Name, token.Prefix, token.Scopes, token.CreatedAt, token.ExpiresAt, token.LastUsedAt, token.RevokedAt);
    }
}

/// <summary>The answer to creating a token: the secret, this once.</summary>
public sealed record CreatedApiToken(ApiTokenView Token, string Secret);

/// <summary>What a developer asks for.</summary>
public sealed record CreateApiTokenRequest(string? Name, IReadOnlyList<string>? Scopes, int? ExpiresInDays);
