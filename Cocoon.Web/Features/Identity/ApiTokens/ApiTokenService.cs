using System.Security.Cryptography;
using System.Text;
using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Identity.ApiTokens;

/// <summary>Creates, lists, revokes and checks API tokens.</summary>
public sealed class ApiTokenService(CocoonDbContext db, TimeProvider clock)
{
    public const string SecretPrefix = "cct_";

    public async Task<CreatedApiToken> CreateAsync(Guid accountId, CreateApiTokenRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > 100)
        {
            errors["name"] = ["Give the token a name of 1 to 100 characters, e.g. the script that uses it."];
        }

        var scopes = request.Scopes?.Distinct(StringComparer.Ordinal).ToArray() ?? [];
        var unknown = scopes.Except(CocoonPolicies.ApiScopes, StringComparer.Ordinal).ToArray();
        if (scopes.Length == 0 || unknown.Length > 0)
        {
            errors["scopes"] = [$"Choose one or more of {string.Join(", ", CocoonPolicies.ApiScopes)}" + (unknown.Length > 0 ? $"; unknown: {string.Join(", ", unknown)}." : ".")];
        }

        if (request.ExpiresInDays is < 1 or > 366)
        {
            errors["expiresInDays"] = ["A token lasts 1 to 366 days, or leave it out for no expiry."];
        }

        if (errors.Count > 0)
        {
            throw new InvalidApiTokenRequestException(errors);
        }

        var secret = SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = clock.GetUtcNow();
        var token = new ApiToken
        {
            Id = Guid.NewGuid(),
            AccountId = accountId,
            Name = name,
            Prefix = secret[..(SecretPrefix.Length + 6)],
            Hash = Hash(secret),
            Scopes = scopes,
            CreatedAt = now,
            ExpiresAt = request.ExpiresInDays is { } days ? now.AddDays(days) : null,
        };
        db.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return new CreatedApiToken(ApiTokenView.From(token), secret);
    }

    public async Task<IReadOnlyList<ApiTokenView>> ListAsync(Guid accountId, CancellationToken cancellationToken) =>
        (await db.Set<ApiToken>().AsNoTracking().Where(t => t.AccountId == accountId).OrderByDescending(t => t.CreatedAt).ToListAsync(cancellationToken))
            .Select(ApiTokenView.From).ToList();

    /// <summary>Revokes one of the account's tokens; false when it has no such token.</summary>
    public async Task<bool> RevokeAsync(Guid accountId, Guid tokenId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var found = await db.Set<ApiToken>().Where(t => t.Id == tokenId && t.AccountId == accountId).ToListAsync(cancellationToken);
        if (found.Count == 0)
        {
            return false;
        }

        await db.Set<ApiToken>().Where(t => t.Id == tokenId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        return true;
    }

    /// <summary>The live token with this secret, or null; records its use at most once a minute.</summary>
    public async Task<ApiToken?> FindLiveAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = Hash(secret);
        var now = clock.GetUtcNow();
        var token = await db.Set<ApiToken>().AsNoTracking()
            .SingleOrDefaultAsync(t => t.Hash == hash && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now), cancellationToken);
        if (token is not null && (token.LastUsedAt is null || now - token.LastUsedAt > TimeSpan.FromMinutes(1)))
        {
            await db.Set<ApiToken>().Where(t => t.Id == token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken);
        }

        return token;
    }

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
