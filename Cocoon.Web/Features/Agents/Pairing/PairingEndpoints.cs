using System.Security.Claims;
using Cocoon.Shared.Pairing;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Cocoon.Web.Features.Agents.Pairing;

/// <summary>
/// Agent pairing over OAuth: the token endpoint (device code for pairing, client credentials for
/// paired agents), the page-facing end of the device flow, key registration and revocation.
/// </summary>
public static class PairingEndpoints
{
    public static void MapCocoonPairing(this WebApplication app)
    {
        app.MapPost(OAuthServer.TokenPath, IssueTokenAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapGet(OAuthServer.VerifyPath, (HttpContext http) =>
            Results.Redirect("/agents/pair" + (http.Request.Query.TryGetValue("user_code", out var code) ? $"?user_code={Uri.EscapeDataString(code.ToString())}" : "")))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapPost(OAuthServer.VerifyPath, ApproveAsync).RequireAuthorization(CocoonPolicies.Provider).ExcludeFromDescription();
        app.MapPost("/api/agents/pair", RegisterKeyAsync).RequireAuthorization(CocoonPolicies.AgentPairing).WithTags("Agents");
        app.MapPost("/api/agents/{id:guid}/revoke", RevokeAsync).RequireAuthorization(CocoonPolicies.Provider).WithTags("Agents");
        app.MapPost("/api/agents/{id:guid}/return-to-work", ReturnToWorkAsync).RequireAuthorization(CocoonPolicies.Provider).WithTags("Agents");
    }

    private static async Task<IResult> IssueTokenAsync(HttpContext http, CocoonDbContext db)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");
        if (request.IsDeviceCodeGrantType())
        {
            // The device code was approved by a provider on /connect/verify; re-check them before issuing.
            var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var accountId = Guid.TryParse(result.Principal?.GetClaim(Claims.Subject), out var id) ? id : (Guid?)null;
            var isProvider = accountId is not null && await db.Set<AccountRole>().AnyAsync(r => r.AccountId == accountId && r.Role == Role.Provider);
            return isProvider
                ? Results.SignIn(result.Principal!, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)
                : Refuse(Errors.InvalidGrant, "The account that approved this code is no longer a provider.");
        }

        if (request.IsClientCredentialsGrantType())
        {
            var agent = await db.Agents.AsNoTracking().SingleOrDefaultAsync(a => a.ClientId == request.ClientId);
            if (agent is null || agent.RevokedAt is not null)
            {
                return Refuse(Errors.InvalidClient, "This agent's pairing was revoked; pair it again.");
            }

            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, request.ClientId);
            identity.SetClaim(Claims.Name, agent.Name);
            identity.SetClaim(AgentClaims.Agent, agent.Id.ToString());
            identity.SetScopes(OAuthServer.AgentScope);
            identity.SetDestinations(static _ => [Destinations.AccessToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return Refuse(Errors.UnsupportedGrantType, "Only the device code and client credentials grants are served here.");
    }

    private static async Task<IResult> ApproveAsync(HttpContext http, [FromForm(Name = "decision")] string? decision, [FromForm(Name = "confirm")] string? confirm)
    {
        var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (result.Principal is null)
        {
            return Results.Redirect("/agents/pair?error=invalid_code");
        }

        if (!string.Equals(decision, "approve", StringComparison.Ordinal))
        {
            return Results.Forbid(new AuthenticationProperties { RedirectUri = "/agents/pair?denied=1" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        // Approval is explicit: the provider saw what made the code (agent, machine, address) and said it was them.
        if (!string.Equals(confirm, "yes", StringComparison.Ordinal))
        {
            var code = http.Request.Form["user_code"].ToString();
            return Results.Redirect($"/agents/pair?error=unconfirmed&user_code={Uri.EscapeDataString(code)}");
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, http.User.AccountId()?.ToString());
        identity.SetClaim(Claims.Name, http.User.Identity?.Name);
        identity.SetScopes(result.Principal.GetScopes());
        identity.SetDestinations(static _ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), new AuthenticationProperties { RedirectUri = "/agents/pair?approved=1" },
            OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<Results<Ok<PairAgentResponse>, ProblemHttpResult>> RegisterKeyAsync(
        PairAgentRequest? request, HttpContext http, AgentPairing pairing, IOpenIddictTokenManager tokens, CancellationToken ct)
    {
        if (request is null)
        {
            return TypedResults.Problem("Send the agent's name, keyX and keyY as JSON.", statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            AgentPairing.Check(request);

            // The device-flow token pairs one agent: it is spent here, before anything is recorded, and
            // the token store is asked (token validation alone would take a revoked token until it
            // expires). Of two uses at once, only one revokes it.
            if (http.User.GetClaim(Claims.Private.TokenId) is not { } tokenId || await tokens.FindByIdAsync(tokenId, ct) is not { } token
                || !await tokens.HasStatusAsync(token, Statuses.Valid, ct) || !await tokens.TryRevokeAsync(token, ct))
            {
                return TypedResults.Problem("This pairing token was already used: each code pairs one agent. Run cocoon-agent pair again for a new one.",
                    statusCode: StatusCodes.Status401Unauthorized, title: "Pairing token spent");
            }

            var owner = Guid.Parse(http.User.GetClaim(Claims.Subject)!);
            return TypedResults.Ok(await pairing.PairAsync(owner, request, ct));
        }
        catch (InvalidPairingException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid pairing request");
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ReturnToWorkAsync(Guid id, HttpContext http, AgentPairing pairing, CancellationToken ct)
    {
        try
        {
            await pairing.ReturnToWorkAsync(id, http.User.AccountId(), http.User.IsAdmin(), ct);
            return TypedResults.NoContent();
        }
        catch (AgentNotFoundException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound, title: "Agent not found");
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(Guid id, HttpContext http, AgentPairing pairing, CancellationToken ct)
    {
        try
        {
            await pairing.RevokeAsync(id, http.User.AccountId(), http.User.IsAdmin(), ct);
            return TypedResults.NoContent();
        }
        catch (AgentNotFoundException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound, title: "Agent not found");
        }
    }

    private static IResult Refuse(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
