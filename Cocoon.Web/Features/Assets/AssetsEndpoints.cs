using System.Security.Claims;
using Cocoon.Shared.Sealing;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Assets;

/// <summary>
/// /api/models and /api/datasets: the same catalogue, one kind each; /api/account/encryption-key:
/// the key the developer's browser seals assets and outputs to.
/// </summary>
public static class AssetsEndpoints
{
    public static void MapAssetsEndpoints(this WebApplication app)
    {
        Map(app, "/api/models", AssetKind.Model);
        Map(app, "/api/datasets", AssetKind.Dataset);
        app.MapPut("/api/account/encryption-key", SetEncryptionKeyAsync).WithTags("Account").RequireAuthorization(CocoonPolicies.Interactive);
    }

    private static void Map(WebApplication app, string path, AssetKind kind)
    {
        var group = app.MapGroup(path).WithTags(kind == AssetKind.Model ? "Models" : "Datasets");
        group.MapGet("/", async (ClaimsPrincipal user, AssetCatalog catalog, CancellationToken ct) =>
            TypedResults.Ok(await catalog.ListAsync(Viewer.From(user).AccountId, kind, ct))).RequireAuthorization(CocoonPolicies.JobsRead);
        group.MapGet("/{id:guid}", async Task<Results<Ok<AssetView>, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, AssetCatalog catalog, CancellationToken ct) =>
            await catalog.GetAsync(Viewer.From(user).AccountId, id, ct) is { } asset && asset.Kind == kind.ToString()
                ? TypedResults.Ok(asset)
                : NotFound(kind, id)).RequireAuthorization(CocoonPolicies.JobsRead);
        group.MapPost("/", async Task<Results<Created<AssetView>, ValidationProblem>> (CreateAssetRequest? request, ClaimsPrincipal user, AssetCatalog catalog, CancellationToken ct) =>
        {
            try
            {
                var asset = await catalog.CreateAsync(Viewer.From(user).AccountId, kind, request ?? new CreateAssetRequest(null, null, Guid.Empty, null), ct);
                return TypedResults.Created($"{path}/{asset.Id}", asset);
            }
            catch (InvalidAssetException ex)
            {
                return TypedResults.ValidationProblem(ex.Errors, title: $"The {kind.ToString().ToLowerInvariant()} is invalid.");
            }
        }).RequireAuthorization(CocoonPolicies.JobsWrite);
        group.MapDelete("/{id:guid}", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, AssetCatalog catalog, CancellationToken ct) =>
        {
            try
            {
                return await catalog.DeleteAsync(Viewer.From(user).AccountId, id, ct) ? TypedResults.NoContent() : NotFound(kind, id);
            }
            catch (AssetInUseException ex)
            {
                return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status409Conflict, title: $"{kind} in use");
            }
        })
            .RequireAuthorization(CocoonPolicies.JobsWrite);
    }

    private static ProblemHttpResult NotFound(AssetKind kind, Guid id) =>
        TypedResults.Problem($"You have no {kind.ToString().ToLowerInvariant()} {id}.", statusCode: StatusCodes.Status404NotFound, title: $"{kind} not found");

    /// <summary>Registers the browser-made P-256 public key that outputs are sealed to (checked to be a point on the curve).</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> SetEncryptionKeyAsync(
        EncryptionKeyRequest? request, ClaimsPrincipal user, CocoonDbContext db, ILogger<AssetCatalog> logger, CancellationToken ct)
    {
        byte[] point;
        try
        {
            point = Convert.FromHexString(request?.PublicKey ?? "");
            using var _ = Hpke.ImportPublic(point);
        }
        catch (Exception ex) when (ex is FormatException or SealedDataException)
        {
            return TypedResults.Problem("publicKey must be a P-256 public key: 65 bytes, uncompressed (04…), as hex.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid key");
        }

        var id = Viewer.From(user).AccountId;
        var account = await db.Set<Account>().SingleAsync(a => a.Id == id, ct);
        account.EncryptionPublicKey = Convert.ToHexStringLower(point);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Account {Account} registered an encryption key", account.FriendlyAddress);
        return TypedResults.NoContent();
    }
}
