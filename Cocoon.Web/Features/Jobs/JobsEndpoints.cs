using System.Security.Claims;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cocoon.Web.Features.Jobs;

/// <summary>/api/jobs: matrix jobs (submit, read, their units); model jobs are read here too.</summary>
public static class JobsEndpoints
{
    public static void MapJobsEndpoints(this WebApplication app)
    {
        var jobs = app.MapGroup("/api/jobs").WithTags("Jobs");
        jobs.MapGet("/", async (ClaimsPrincipal user, JobQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.ListAsync(Viewer.From(user), 100, ct)))
            .RequireAuthorization(CocoonPolicies.JobsRead);
        jobs.MapGet("/{id:guid}", GetJobAsync).WithName("GetJob").RequireAuthorization(CocoonPolicies.JobsRead);
        jobs.MapGet("/{id:guid}/units", async Task<Results<Ok<IReadOnlyList<WorkUnitView>>, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, JobQueries queries, CancellationToken ct) =>
            await queries.GetAsync(Viewer.From(user), id, ct) is null
                ? NotFound(id)
                : TypedResults.Ok(await queries.UnitsAsync(Viewer.From(user), id, ct)))
            .RequireAuthorization(CocoonPolicies.JobsRead);
        jobs.MapPost("/", CreateJobAsync).RequireAuthorization(CocoonPolicies.JobsWrite);
    }

    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> GetJobAsync(Guid id, ClaimsPrincipal user, JobQueries queries, CancellationToken ct) =>
        await queries.GetAsync(Viewer.From(user), id, ct) is { } job ? TypedResults.Ok(job) : NotFound(id);

    private static async Task<Results<CreatedAtRoute<JobView>, ValidationProblem, ProblemHttpResult>> CreateJobAsync(
        CreateJobRequest? request, ClaimsPrincipal user, JobSubmission submission, JobQueries queries, CancellationToken ct)
    {
        if (request is null)
        {
            return TypedResults.Problem("Send a JSON body with name, matrixSize, matrixCount and matricesPerUnit.", statusCode: StatusCodes.Status400BadRequest, title: "Missing job");
        }

        try
        {
            var viewer = Viewer.From(user);
            var job = await submission.SubmitAsync(request, viewer.AccountId, ct);
            return TypedResults.CreatedAtRoute((await queries.GetAsync(viewer, job.Id, ct))!, "GetJob", new { id = job.Id });
        }
        catch (InvalidJobException ex)
        {
            return TypedResults.ValidationProblem(ex.Errors, title: "The job's parameters are out of range.");
        }
        catch (Ledger.InsufficientFundsException ex)
        {
            return ex.AsProblem();
        }
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"There is no job {id}.", statusCode: StatusCodes.Status404NotFound, title: "Job not found");
}
