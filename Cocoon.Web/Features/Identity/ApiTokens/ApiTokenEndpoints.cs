using Microsoft.AspNetCore.Http.HttpResults;

namespace Cocoon.Web.Features.Identity.ApiTokens;

/// <summary>/api/tokens: a signed-in person manages their tokens (a token cannot make more tokens).</summary>
public static class ApiTokenEndpoints
{
    public static void MapCocoonApiTokens(this WebApplication app)
    {
        var group = app.MapGroup("/api/tokens").WithTags("API tokens").RequireAuthorization(CocoonPolicies.Interactive);
        group.MapGet("/", async (HttpContext http, ApiTokenService tokens, CancellationToken ct) =>
            TypedResults.Ok(await tokens.ListAsync(http.User.AccountId()!.Value, ct)));
        group.MapPost("/", async Task<Results<Ok<CreatedApiToken>, ValidationProblem>> (CreateApiTokenRequest? request, HttpContext http, ApiTokenService tokens, CancellationToken ct) =>
        {
            try
            {
                return TypedResults.Ok(await tokens.CreateAsync(http.User.AccountId()!.Value, request ?? new CreateApiTokenRequest(null, null, null), ct));
            }
            catch (InvalidApiTokenRequestException ex)
            {
                return TypedResults.ValidationProblem(ex.Errors, title: "The token request is invalid.");
            }
        });
        group.MapDelete("/{id:guid}", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, HttpContext http, ApiTokenService tokens, CancellationToken ct) =>
            await tokens.RevokeAsync(http.User.AccountId()!.Value, id, ct)
                ? TypedResults.NoContent()
                : TypedResults.Problem($"You have no API token {id}.", statusCode: StatusCodes.Status404NotFound, title: "Token not found"));
    }
}
