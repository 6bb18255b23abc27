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
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer " + ApiTokenService.SecretPrefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }

        var token = await tokens.FindLiveAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
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
}
