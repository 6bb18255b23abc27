using System.Security.Claims;
using System.Security.Cryptography;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Assets;
using Cocoon.Web.Features.Blobs;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Jobs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.ModelRuns;

/// <summary>
/// Model jobs over HTTP. Developers: /api/model-jobs (submit with key grants, the agents they may
/// grant to, the sealed outputs). Agents, through the lease they hold: ranged reads of the job's
/// sealed inputs and the upload of the sealed output.
/// </summary>
public static class ModelRunsEndpoints
{
    /// <summary>The header an agent names its output's SHA-256 in; the portal stores nothing that does not match.</summary>
    public const string DigestHeader = "X-Content-SHA256";

    public static void MapModelRunsEndpoints(this WebApplication app)
    {
        var developer = app.MapGroup("/api/model-jobs").WithTags("Model jobs");
        developer.MapGet("/agents", async (AgentQueries agents, CancellationToken ct) =>
            TypedResults.Ok(await agents.GrantCandidatesAsync(ct)))
            .RequireAuthorization(CocoonPolicies.JobsWrite);
        developer.MapPost("/", SubmitAsync).RequireAuthorization(CocoonPolicies.JobsWrite);
        developer.MapGet("/{id:guid}/outputs", OutputsAsync).RequireAuthorization(CocoonPolicies.JobsRead);

        var agent = app.MapGroup("/api/agent/leases/{leaseId:guid}").WithTags("Agent leases").RequireAuthorization(CocoonPolicies.Agent);
        agent.MapGet("/blobs/{blobId:guid}", ReadInputAsync);
        agent.MapPut("/output", UploadOutputAsync);
    }

    private static async Task<Results<CreatedAtRoute<JobView>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        CreateModelJobRequest? request, ClaimsPrincipal user, ModelJobSubmission submission, JobQueries queries, CancellationToken ct)
    {
        if (request is null)
        {
            return TypedResults.Problem("Send a JSON body with name, modelId, datasetId, rowsPerUnit, outputKey and grants.", statusCode: StatusCodes.Status400BadRequest, title: "Missing job");
        }

        try
        {
            var viewer = Viewer.From(user);
            var job = await submission.SubmitAsync(viewer.AccountId, request, ct);
            return TypedResults.CreatedAtRoute((await queries.GetAsync(viewer, job.Id, ct))!, "GetJob", new { id = job.Id });
        }
        catch (InvalidJobException ex)
        {
            return TypedResults.ValidationProblem(ex.Errors, title: "The model job cannot be submitted.");
        }
        catch (Ledger.InsufficientFundsException ex)
        {
            return ex.AsProblem();
        }
    }

    private static async Task<Results<Ok<List<UnitOutputView>>, ProblemHttpResult>> OutputsAsync(Guid id, ClaimsPrincipal user, CocoonDbContext db, CancellationToken ct)
    {
        var viewer = Viewer.From(user);
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id && j.Kind == JobKind.Model && (viewer.IsAdmin || j.OwnerAccountId == viewer.AccountId), ct);
        if (job is null)
        {
            return TypedResults.Problem($"There is no model job {id}.", statusCode: StatusCodes.Status404NotFound, title: "Job not found");
        }

        var outputs = await db.WorkUnits.AsNoTracking()
            // The unit itself, once its copies (if any) agreed: it then holds the majority's output.
            .Where(u => u.JobId == id && u.Replica == 0 && u.State == WorkUnitState.Succeeded && u.Vote != UnitVote.Awaiting && u.OutputBlobId != null)
            .Join(db.Set<StoredBlob>(), u => u.OutputBlobId, b => b.Id, (u, b) => new UnitOutputView
            {
                UnitIndex = u.Index,
                FirstRow = u.FirstMatrix,
                RowCount = u.MatrixCount,
                BlobId = b.Id,
                Digest = b.Digest,
                Size = b.Length,
                PlainDigest = db.WorkUnits.Where(s => s.JobId == u.JobId && s.Index == u.Index && s.Vote == UnitVote.Agreed).Select(s => s.PlainDigest).FirstOrDefault(),
            })
            .OrderBy(o => o.UnitIndex)
            .ToListAsync(ct);
        return TypedResults.Ok(outputs);
    }

    /// <summary>A sealed input of the job the lease belongs to, with range support; nothing else is readable this way.</summary>
    private static async Task<IResult> ReadInputAsync(Guid leaseId, Guid blobId, ClaimsPrincipal user, CocoonDbContext db, IBlobStore store, CancellationToken ct)
    {
        var job = (await LeasedUnitAsync(db, user, leaseId, ct))?.Job;
        if (job is null)
        {
            return LeaseNotFound(leaseId);
        }

        var blob = await db.Set<Asset>().AsNoTracking()
            .Where(a => (a.Id == job.ModelAssetId || a.Id == job.DatasetAssetId) && a.BlobId == blobId)
            .Join(db.Set<StoredBlob>(), a => a.BlobId, b => b.Id, (a, b) => b)
            .FirstOrDefaultAsync(ct);
        return blob is null
            ? TypedResults.Problem($"Blob {blobId} is not an input of this lease's job.", statusCode: StatusCodes.Status404NotFound, title: "Blob not found")
            : BlobsEndpoints.Stream(store, blob.Digest);
    }

    /// <summary>
    /// Stores the unit's sealed output for the job's owner, when its SHA-256 is what the agent says:
    /// one output per lease, no larger than the unit's rows allow, within the owner's storage quota,
    /// and bound to the lease, so a result can only name the output its own lease uploaded.
    /// </summary>
    private static async Task<IResult> UploadOutputAsync(
        Guid leaseId, HttpContext http, CocoonDbContext db, IBlobStore store, IOptions<BlobOptions> options, IOptions<ModelRunsOptions> outputs, TimeProvider clock, CancellationToken ct)
    {
        var leased = await LeasedUnitAsync(db, http.User, leaseId, ct);
        if (leased is not var (job, rows))
        {
            return LeaseNotFound(leaseId);
        }

        if (await db.Set<StoredBlob>().AnyAsync(b => b.LeaseId == leaseId, ct))
        {
            return OutputTaken(leaseId);
        }

        var digest = http.Request.Headers[DigestHeader].ToString().ToLowerInvariant();
        if (digest.Length != 64 || !digest.All(Uri.IsHexDigit))
        {
            return TypedResults.Problem($"Name the output's SHA-256 in the {DigestHeader} header (64 hex digits).", statusCode: StatusCodes.Status400BadRequest, title: "Missing digest");
        }

        var limit = Math.Min(options.Value.MaxObjectBytes, outputs.Value.MaxOutputBytes(rows, job.OutputElementsPerRow));
        if (http.Request.ContentLength > limit)
        {
            return OutputTooLarge(limit, rows);
        }

        var owner = job.OwnerAccountId!.Value;
        var room = options.Value.QuotaBytesPerAccount - await StorageQuota.UsedAsync(db, owner, clock.GetUtcNow(), ct);
        if (http.Request.ContentLength > room)
        {
            return OverQuota(options.Value.QuotaBytesPerAccount);
        }

        limit = Math.Min(limit, Math.Max(room, 0));

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        var stagingId = Guid.NewGuid();
        long length;
        try
        {
            length = await store.AppendAsync(stagingId, http.Request.Body, limit, ct);
            await store.CommitAsync(stagingId, digest, ct);
        }
        catch (DigestMismatchException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Digest mismatch");
        }
        catch (UploadTooLargeException)
        {
            await store.DiscardUploadAsync(stagingId, CancellationToken.None);
            return limit < Math.Min(options.Value.MaxObjectBytes, outputs.Value.MaxOutputBytes(rows, job.OutputElementsPerRow)) ? OverQuota(options.Value.QuotaBytesPerAccount) : OutputTooLarge(limit, rows);
        }
        catch
        {
            await store.DiscardUploadAsync(stagingId, CancellationToken.None);
            throw;
        }

        var blob = new StoredBlob { Id = Guid.NewGuid(), AccountId = owner, Digest = digest, Length = length, CreatedAt = clock.GetUtcNow(), LeaseId = leaseId };
        try
        {
            // Checked again under the owner's quota lock: the room seen before the bytes came may have gone.
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await StorageQuota.LockAsync(db, owner, ct);
            if (await StorageQuota.UsedAsync(db, owner, clock.GetUtcNow(), ct) + length > options.Value.QuotaBytesPerAccount)
            {
                await transaction.RollbackAsync(ct);
                await BlobRemoval.DeleteBytesIfUnheldAsync(db, store, digest, CancellationToken.None);

                return OverQuota(options.Value.QuotaBytesPerAccount);
            }

            db.Add(blob);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // Two uploads on one lease at once: the other one won; these bytes go unless another blob holds them.
            db.ChangeTracker.Clear();
            await BlobRemoval.DeleteBytesIfUnheldAsync(db, store, digest, CancellationToken.None);

            return OutputTaken(leaseId);
        }

        return TypedResults.Ok(new { blobId = blob.Id, digest, size = length });
    }

    private static ProblemHttpResult OutputTaken(Guid leaseId) =>
        TypedResults.Problem($"Lease {leaseId} has already uploaded its output; a lease uploads one.", statusCode: StatusCodes.Status409Conflict, title: "Output already uploaded");

    private static ProblemHttpResult OutputTooLarge(long limit, int rows) =>
        TypedResults.Problem($"This unit's output may be at most {limit:N0} bytes: {rows:N0} rows of what the model's declared outputs hold (at most Cocoon:ModelRuns:MaxOutputBytesPerRow a row).", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Output too large");

    private static ProblemHttpResult OverQuota(long quota) =>
        TypedResults.Problem($"The output would take the job owner's storage past its quota of {quota:N0} bytes.", statusCode: StatusCodes.Status507InsufficientStorage, title: "Over quota");

    /// <summary>The model job and the unit's row count of a lease this agent holds and that is still running; null otherwise.</summary>
    private static async Task<(Job Job, int Rows)?> LeasedUnitAsync(CocoonDbContext db, ClaimsPrincipal user, Guid leaseId, CancellationToken ct)
    {
        var agentId = AgentClaims.AgentId(user);
        if (agentId is null)
        {
            return null;
        }

        var found = await db.Leases.AsNoTracking()
            .Where(l => l.Id == leaseId && l.AgentId == agentId && l.EndedAt == null)
            .Join(db.WorkUnits, l => l.WorkUnitId, u => u.Id, (l, u) => u)
            .Join(db.Jobs, u => u.JobId, j => j.Id, (u, j) => new { Job = j, Rows = u.MatrixCount })
            .Where(x => x.Job.Kind == JobKind.Model && x.Job.OwnerAccountId != null)
            .SingleOrDefaultAsync(ct);
        return found is null ? null : (found.Job, found.Rows);
    }

    private static ProblemHttpResult LeaseNotFound(Guid leaseId) =>
        TypedResults.Problem($"This agent holds no running model lease {leaseId}.", statusCode: StatusCodes.Status404NotFound, title: "Lease not found");
}
