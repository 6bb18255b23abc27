using System.Security.Claims;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Blobs;

/// <summary>
/// /api/uploads (resumable ciphertext uploads) and /api/blobs (what they became, with range reads).
/// Only ciphertext ever reaches these endpoints: browsers seal files before they send a byte.
/// </summary>
public static class BlobsEndpoints
{
    public static void MapBlobsEndpoints(this WebApplication app)
    {
        var uploads = app.MapGroup("/api/uploads").WithTags("Uploads").RequireAuthorization(CocoonPolicies.JobsWrite);
        uploads.MapPost("/", (CreateUploadRequest? request, ClaimsPrincipal user, Uploads service, CancellationToken ct) =>
            Refusable(async () =>
            {
                var upload = await service.CreateAsync(Viewer.From(user).AccountId, request?.Length ?? 0, ct);
                return TypedResults.Created($"/api/uploads/{upload.Id}", upload);
            }));
        uploads.MapGet("/{id:guid}", (Guid id, ClaimsPrincipal user, Uploads service, CancellationToken ct) =>
            Refusable(async () => TypedResults.Ok(await service.StatusAsync(Viewer.From(user).AccountId, id, ct))));
        uploads.MapPut("/{id:guid}", AppendAsync);
        uploads.MapPost("/{id:guid}/complete", (Guid id, CompleteUploadRequest? request, ClaimsPrincipal user, Uploads service, CancellationToken ct) =>
            Refusable(async () => TypedResults.Ok(await service.CompleteAsync(Viewer.From(user).AccountId, id, request?.Sha256, ct))));
        uploads.MapDelete("/{id:guid}", (Guid id, ClaimsPrincipal user, Uploads service, CancellationToken ct) =>
            Refusable(async () =>
            {
                await service.CancelAsync(Viewer.From(user).AccountId, id, ct);
                return TypedResults.NoContent();
            }));

        var blobs = app.MapGroup("/api/blobs").WithTags("Blobs");
        blobs.MapGet("/", async (ClaimsPrincipal user, CocoonDbContext db, CancellationToken ct) =>
        {
            var owner = Viewer.From(user).AccountId;
            return TypedResults.Ok(await db.Set<StoredBlob>().AsNoTracking().Where(b => b.AccountId == owner).OrderByDescending(b => b.CreatedAt)
                .Select(b => new BlobView(b.Id, b.Digest, b.Length, b.CreatedAt)).ToListAsync(ct));
        }).RequireAuthorization(CocoonPolicies.JobsRead);
        blobs.MapGet("/{id:guid}", ReadAsync).RequireAuthorization(CocoonPolicies.JobsRead);
        blobs.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(CocoonPolicies.JobsWrite);
    }

    private static async Task<IResult> AppendAsync(Guid id, long? offset, HttpContext http, Uploads service, IOptions<BlobOptions> options, CancellationToken ct)
    {
        var limit = options.Value.MaxPartBytes;
        if (http.Request.ContentLength > limit)
        {
            return Problem(new UploadRefusedException(StatusCodes.Status413PayloadTooLarge, "part_too_large", $"Send at most {limit:N0} bytes per request."));
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        if (offset is null)
        {
            return Problem(new UploadRefusedException(StatusCodes.Status400BadRequest, "bad_offset", "Say where these bytes go: PUT /api/uploads/{id}?offset=N."));
        }

        return await Refusable(async () => TypedResults.Ok(await service.AppendAsync(Viewer.From(http.User).AccountId, id, offset.Value, http.Request.Body, ct)));
    }

    private static async Task<IResult> ReadAsync(Guid id, ClaimsPrincipal user, CocoonDbContext db, IBlobStore store, CancellationToken ct)
    {
        var viewer = Viewer.From(user);
        var blob = await db.Set<StoredBlob>().AsNoTracking().SingleOrDefaultAsync(b => b.Id == id && (viewer.IsAdmin || b.AccountId == viewer.AccountId), ct);
        return blob is null ? NotFound(id) : Stream(store, blob.Digest);
    }

    private static async Task<IResult> DeleteAsync(Guid id, ClaimsPrincipal user, CocoonDbContext db, IBlobStore store, [FromServices] IEnumerable<IBlobReferences> references, CancellationToken ct)
    {
        var owner = Viewer.From(user).AccountId;
        var blob = await db.Set<StoredBlob>().AsNoTracking().SingleOrDefaultAsync(b => b.Id == id && b.AccountId == owner, ct);
        if (blob is null)
        {
            return NotFound(id);
        }

        foreach (var reference in references)
        {
            if (await reference.InUseAsync(id, ct) is { } reason)
            {
                return TypedResults.Problem(reason, statusCode: StatusCodes.Status409Conflict, title: "Blob in use");
            }
        }

        await BlobRemoval.RemoveAsync(db, store, blob.Id, blob.Digest, ct);
        return TypedResults.NoContent();
    }

    /// <summary>The ciphertext with range support, or a problem that says it is missing from the store.</summary>
    public static IResult Stream(IBlobStore store, string digest)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            // Ciphertext, always saved rather than shown: nothing a blob holds is ever rendered by the browser.
            return TypedResults.Stream(store.OpenRead(digest, 0), "application/octet-stream", fileDownloadName: $"{digest[..16]}.sealed", enableRangeProcessing: true);
        }
        catch (BlobMissingException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status500InternalServerError, title: "Blob missing");
        }
    }

    private static async Task<IResult> Refusable(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (UploadRefusedException ex)
        {
            return Problem(ex);
        }
    }

    private static ProblemHttpResult Problem(UploadRefusedException ex)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = ex.Code };
        if (ex.Offset is { } offset)
        {
            extensions["offset"] = offset;
        }

        return TypedResults.Problem(ex.Message, statusCode: ex.Status, title: "Upload refused", extensions: extensions);
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"You have no blob {id}.", statusCode: StatusCodes.Status404NotFound, title: "Blob not found");
}
