namespace Cocoon.Web.Features.Identity.ApiTokens;

/// <summary>
/// A token a developer's scripts use for the REST API: shown once at creation, stored only as its
/// SHA-256, limited to its scopes, revocable.
/// </summary>
public sealed class ApiToken
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public required string Name { get; set; }

    /// <summary>The first characters of the secret, so a person can tell tokens apart.</summary>
    public required string Prefix { get; set; }

    /// <summary>SHA-256 of the whole token, hex.</summary>
    public required string Hash { get; set; }

    public required string[] Scopes { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
