using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity.TonProof;
using Cocoon.Web.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Identity;

/// <summary>Wallet sign-in over HTTP, in the shape of TON Connect's demo backend.</summary>
public static class AuthEndpoints
{
    public static void MapCocoonAuth(this WebApplication app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Sign-in").AllowAnonymous();
        auth.MapPost("/ton-proof/payload", async (ProofPayloads payloads, CancellationToken ct) =>
            TypedResults.Ok(new PayloadResponse(await payloads.IssueAsync(ct))))
            .RequireRateLimiting(IdentityModule.SignInRateLimit);
        auth.MapPost("/ton-proof", CheckProofAsync).RequireRateLimiting(IdentityModule.SignInRateLimit);
        auth.MapPost("/sign-out", async (HttpContext http, CocoonDbContext db) =>
        {
            // Ends the session on the server, not only in this browser: every cookie issued to the
            // account before now is refused from the next request on.
            if ((await http.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme)).Principal?.AccountId() is { } accountId)
            {
                var stamp = Account.NewSecurityStamp();
                await db.Set<Account>().Where(a => a.Id == accountId).ExecuteUpdateAsync(s => s.SetProperty(a => a.SecurityStamp, stamp));
            }

            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return TypedResults.NoContent();
        });
        app.MapGet("/api/auth/me", MeAsync).WithTags("Sign-in").RequireAuthorization(CocoonPolicies.Account);
        app.MapGet("/tonconnect-manifest.json", (IOptions<PortalOptions> portal) => TypedResults.Json(new
        {
            url = portal.Value.PublicUri.ToString().TrimEnd('/'),
            name = portal.Value.Name,
            iconUrl = new Uri(portal.Value.PublicUri, "dist/icons/cocoon-180.png").ToString(),
        })).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> CheckProofAsync(
        TonProofRequest? request, TonProofVerifier verifier, ProofPayloads payloads, AccountService accounts,
        HttpContext http, TimeProvider clock, ILogger<TonProofVerifier> logger, CancellationToken ct)
    {
        try
        {
            if (request is null)
            {
                throw TonProofException.BadRequest("bad_request", "Send the wallet's address, network, public_key and proof as JSON.");
            }

            var wallet = verifier.Verify(request);
            await payloads.SpendAsync(wallet.Payload, ct);
            var account = await accounts.SignInAsync(wallet, ct);
            await http.SignInAsync(
                CookieAuthenticationDefaults.AuthenticationScheme,
                CocoonClaims.For(account, CookieAuthenticationDefaults.AuthenticationScheme, clock.GetUtcNow()),
                new AuthenticationProperties { IsPersistent = false });
            return TypedResults.Ok(AccountView.From(account));
        }
        catch (TonProofException ex)
        {
            logger.LogInformation("Wallet proof refused: {Code}", ex.Code);
            return TypedResults.Problem(
                ex.Message, statusCode: ex.Status, title: "Wallet proof refused",
                extensions: new Dictionary<string, object?> { ["code"] = ex.Code });
        }
    }

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> MeAsync(HttpContext http, CocoonDbContext db, CancellationToken ct)
    {
        var id = http.User.AccountId();
        var account = await db.Set<Account>().AsNoTracking().Include(a => a.Roles).SingleOrDefaultAsync(a => a.Id == id, ct);
        return account is null
            ? TypedResults.Problem("This session's account no longer exists.", statusCode: StatusCodes.Status401Unauthorized)
            : TypedResults.Ok(AccountView.From(account));
    }
}

public sealed record PayloadResponse(string Payload);
