using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Identity;

/// <summary>/api/admin: accounts, role changes and their audit (Admin only); /api/account/provider: self-service.</summary>
public static class AdminEndpoints
{
    public static void MapCocoonAdmin(this WebApplication app)
    {
        var admin = app.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(CocoonPolicies.Admin);
        admin.MapGet("/accounts", async (AccountQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.ListAsync(ct)));
        admin.MapGet("/role-changes", async (AccountQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.RoleChangesAsync(200, ct)));
        admin.MapPost("/accounts/{id:guid}/roles", ChangeRoleAsync);
        admin.MapPut("/accounts/{id:guid}/share", SetShareAsync);

        app.MapPost("/api/account/provider", async (ClaimsPrincipal user, AccountService accounts, CancellationToken ct) =>
        {
            var id = Viewer.From(user).AccountId;
            await accounts.BecomeProviderAsync(id, ct);
            return TypedResults.NoContent();
        }).WithTags("Account").RequireAuthorization(CocoonPolicies.Interactive);
    }

    /// <summary>An account's weight in the fair share of capacity and its limit on units running at once.</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> SetShareAsync(
        Guid id, SetShareRequest? request, ClaimsPrincipal user, AccountService accounts, CancellationToken ct)
    {
        if (request?.Weight is not { } weight)
        {
            return TypedResults.Problem("Send {\"weight\": 1-100, \"maxConcurrentUnits\": n or null}.", statusCode: StatusCodes.Status400BadRequest, title: "Missing weight");
        }

        try
        {
            await accounts.SetShareAsync(id, weight, request.MaxConcurrentUnits, Viewer.From(user).AccountId, ct);
            return TypedResults.NoContent();
        }
        catch (InvalidShareException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Share out of range");
        }
        catch (AccountNotFoundException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound, title: "Account not found");
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ChangeRoleAsync(
        Guid id, ChangeRoleRequest? request, ClaimsPrincipal user, AccountService accounts, CancellationToken ct)
    {
        if (request is null || !Enum.TryParse<Role>(request.Role, ignoreCase: false, out var role) || !Enum.IsDefined(role))
        {
            return TypedResults.Problem($"role must be one of {string.Join(", ", Enum.GetNames<Role>())}.", statusCode: StatusCodes.Status400BadRequest, title: "Unknown role");
        }

        var reason = string.IsNullOrWhiteSpace(request.Reason) ? "changed by an admin" : request.Reason.Trim();
        if (reason.Length > 200)
        {
            return TypedResults.Problem("reason must be at most 200 characters.", statusCode: StatusCodes.Status400BadRequest, title: "Reason too long");
        }

        try
        {
            await accounts.ChangeRoleAsync(id, role, request.Granted, Viewer.From(user).AccountId, reason, ct);
            return TypedResults.NoContent();
        }
        catch (InvalidRoleChangeException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Role change refused");
        }
        catch (AccountNotFoundException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound, title: "Account not found");
        }
    }
}
