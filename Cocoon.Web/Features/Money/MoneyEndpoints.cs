using System.Security.Claims;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Money;

/// <summary>
/// /api/account/balance, /api/account/spending, /api/account/statement (?format=csv), /api/agents/{id}/price, /api/earnings,
/// and the ledger's trial balance and check for Finance and Admin (/api/ledger/…).
/// </summary>
public static class MoneyEndpoints
{
    public static void MapMoneyEndpoints(this WebApplication app)
    {
        var account = app.MapGroup("/api/account").WithTags("Money").RequireAuthorization(CocoonPolicies.JobsRead);
        account.MapGet("/balance", async (ClaimsPrincipal user, MoneyQueries queries, CancellationToken ct) =>
            TypedResults.Ok(await queries.BalanceAsync(Viewer.From(user).AccountId, ct)));
        account.MapGet("/spending", async (ClaimsPrincipal user, MoneyQueries queries, CancellationToken ct) =>
            TypedResults.Ok(await queries.SpendingAsync(Viewer.From(user).AccountId, ct)));
        account.MapGet("/statement", async (string? format, ClaimsPrincipal user, MoneyQueries queries, CancellationToken ct) =>
        {
            var lines = await queries.StatementAsync(Viewer.From(user).AccountId, 10_000, ct);
            return string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase)
                ? Results.Text(MoneyQueries.Csv(lines), "text/csv", System.Text.Encoding.UTF8)
                : Results.Ok(lines);
        });

        app.MapPut("/api/agents/{id:guid}/price", SetPriceAsync).WithTags("Money").RequireAuthorization(CocoonPolicies.Provider);
        app.MapGet("/api/earnings", async (ClaimsPrincipal user, MoneyQueries queries, CancellationToken ct) =>
            TypedResults.Ok(await queries.EarningsAsync(Viewer.From(user).AccountId, ct))).WithTags("Money").RequireAuthorization(CocoonPolicies.Provider);

        var ledger = app.MapGroup("/api/ledger").WithTags("Money").RequireAuthorization(CocoonPolicies.LedgerRead);
        ledger.MapGet("/trial-balance", async (MoneyQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.TrialBalanceAsync(ct)));
        ledger.MapGet("/verify", async (MoneyQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.VerifyAsync(ct)));
        ledger.MapGet("/accounts/{code}/entries", async (string code, MoneyQueries queries, CancellationToken ct) =>
            await queries.AccountEntriesAsync(code, 1000, ct) is { } entries
                ? Results.Ok(entries)
                : Results.Problem($"There is no ledger account '{code}'.", statusCode: StatusCodes.Status404NotFound, title: "No such account"));
        ledger.MapGet("/unattributed", async (CocoonDbContext db, CancellationToken ct) => TypedResults.Ok(await Unattributed.ListAsync(db, ct)));
        app.MapPost("/api/ledger/unattributed/{hash}/assign", async Task<Results<NoContent, ProblemHttpResult>> (string hash, AssignRequest? request, ClaimsPrincipal user, CocoonDbContext db, TimeProvider clock, CancellationToken ct) =>
        {
            try
            {
                await Unattributed.AssignAsync(db, hash, request?.Wallet, user.Identity?.Name ?? "finance", clock.GetUtcNow(), ct);
                return TypedResults.NoContent();
            }
            catch (InvalidAssignmentException ex)
            {
                return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Cannot assign");
            }
        }).WithTags("Money").RequireAuthorization(CocoonPolicies.Finance);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> SetPriceAsync(
        Guid id, SetPriceRequest? request, ClaimsPrincipal user, CocoonDbContext db, CancellationToken ct)
    {
        if (!Ledger.Ton.TryParseNano(request?.PricePerTflop?.Trim(), out var price) || price > 1000 * Ledger.Ton.Nano)
        {
            return TypedResults.Problem("pricePerTflop is nanotons per TFLOP as a string of digits, at most 1000 TON.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid price");
        }

        var viewer = Viewer.From(user);
        var updated = await db.Agents.Where(a => a.Id == id && a.RevokedAt == null && (a.OwnerAccountId == viewer.AccountId || viewer.IsAdmin))
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.PricePerTflop, price), ct);
        return updated == 0
            ? TypedResults.Problem($"You have no agent {id}.", statusCode: StatusCodes.Status404NotFound, title: "Agent not found")
            : TypedResults.NoContent();
    }
}

/// <summary>An agent's price: nanotons per TFLOP executed, as a string of digits.</summary>
public sealed record SetPriceRequest(string? PricePerTflop);
