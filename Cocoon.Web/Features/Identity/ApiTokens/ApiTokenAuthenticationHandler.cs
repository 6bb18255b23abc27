using System.Security.Claims;
using System.Text.Encodings.Web;
using Cocoon.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Identity.ApiTokens;

/// <summary>Authenticates <c>Authorization: Bearer cct_…</c> as the token's account, limited to the token's scopes.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiTokenService tokens, CocoonDbContext db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!HasToken)
        {
            return AuthenticateResult.NoResult();
        }

        var token = await tokens.FindLiveAsync(Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (token is null)
        {
            return AuthenticateResult.Fail("The API token is unknown, revoked or expired.");
        }

        var account = await db.Set<Account>().AsNoTracking().Include(a => a.Roles).SingleOrDefaultAsync(a => a.Id == token.AccountId, Context.RequestAborted);
        if (account is null)
        {
            return AuthenticateResult.Fail("The API token's account no longer exists.");
        }

        var principal = CocoonClaims.For(account, SchemeName, token.CreatedAt);
        var identity = (ClaimsIdentity)principal.Identity!;
        foreach (var scope in token.Scopes)
        {
            identity.AddClaim(new Claim(CocoonClaims.Scope, scope));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    // Policies name this scheme beside the cookie's; when no API token was sent, the cookie scheme
    // answers (a redirect for pages, problem details for APIs) and this one stays out of the way.
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        HasToken ? AuthProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized) : Task.CompletedTask;

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        HasToken ? AuthProblems.WriteAsync(Context, StatusCodes.Status403Forbidden) : Task.CompletedTask;

    private bool HasToken => Request.Headers.Authorization.ToString().StartsWith("Bearer " + ApiTokenService.SecretPrefix, StringComparison.Ordinal);
}
