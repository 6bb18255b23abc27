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
        jobs.MapGet("/{id:guid}/cost", async Task<Results<Ok<JobCostView>, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, JobCosts costs, CancellationToken ct) =>
            await costs.GetAsync(Viewer.From(user), id, ct) is { } cost ? TypedResults.Ok(cost) : NotFound(id))
            .RequireAuthorization(CocoonPolicies.JobsRead);
        jobs.MapPost("/", CreateJobAsync).RequireAuthorization(CocoonPolicies.JobsWrite);
        jobs.MapPost("/{id:guid}/cancel", (Guid id, ClaimsPrincipal user, JobControl control, JobQueries queries, CancellationToken ct) =>
            ActAsync(id, user, queries, c => control.CancelAsync(Viewer.From(user), id, c), ct)).RequireAuthorization(CocoonPolicies.JobsWrite);
        jobs.MapPost("/{id:guid}/pause", (Guid id, ClaimsPrincipal user, JobControl control, JobQueries queries, CancellationToken ct) =>
            ActAsync(id, user, queries, c => control.PauseAsync(Viewer.From(user), id, c), ct)).RequireAuthorization(CocoonPolicies.JobsWrite);
        jobs.MapPost("/{id:guid}/resume", (Guid id, ClaimsPrincipal user, JobControl control, JobQueries queries, CancellationToken ct) =>
            ActAsync(id, user, queries, c => control.ResumeAsync(Viewer.From(user), id, c), ct)).RequireAuthorization(CocoonPolicies.JobsWrite);
        jobs.MapPost("/{id:guid}/budget", RaiseBudgetAsync).RequireAuthorization(CocoonPolicies.JobsWrite);
        jobs.MapPost("/{id:guid}/retry", RetryAsync).RequireAuthorization(CocoonPolicies.JobsWrite);
        jobs.MapPost("/{id:guid}/priority", SetPriorityAsync).RequireAuthorization(CocoonPolicies.JobsWrite);
        app.MapGet("/api/admin/disputes", async (JobQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.DisputesAsync(200, ct)))
            .WithTags("Admin").RequireAuthorization(CocoonPolicies.Admin);
    }

    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> RaiseBudgetAsync(
        Guid id, RaiseBudgetRequest? request, ClaimsPrincipal user, JobControl control, JobQueries queries, CancellationToken ct)
    {
        if (request?.Add is not { } text || !Ledger.Ton.TryParseNano(text.Trim(), out var amount))
        {
            return TypedResults.Problem("Send {\"add\": \"<nanotons>\"}: how much more to hold for the job, as a string of digits.",
                statusCode: StatusCodes.Status400BadRequest, title: "Missing amount");
        }

        try
        {
            return await ActAsync(id, user, queries, c => control.RaiseBudgetAsync(Viewer.From(user), id, amount, c), ct);
        }
        catch (Ledger.InsufficientFundsException ex)
        {
            return ex.AsProblem();
        }
    }

    /// <summary>A failed job's failed units go back to the queue, its budget held again.</summary>
    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> RetryAsync(Guid id, ClaimsPrincipal user, JobControl control, JobQueries queries, CancellationToken ct)
    {
        try
        {
            return await ActAsync(id, user, queries, c => control.RetryAsync(Viewer.From(user), id, c), ct);
        }
        catch (Ledger.InsufficientFundsException ex)
        {
            return ex.AsProblem();
        }
    }

    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> SetPriorityAsync(
        Guid id, SetPriorityRequest? request, ClaimsPrincipal user, JobControl control, JobQueries queries, CancellationToken ct) =>
        request?.Priority is not { } priority
            ? TypedResults.Problem($"Send {{\"priority\": n}} with n from {JobControl.MinPriority} to {JobControl.MaxPriority} (higher runs first among your jobs).",
                statusCode: StatusCodes.Status400BadRequest, title: "Missing priority")
            : await ActAsync(id, user, queries, c => control.SetPriorityAsync(Viewer.From(user), id, priority, c), ct);

    /// <summary>An owner's action on a job: the job as it now is, or the problem that stopped it.</summary>
    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> ActAsync(
        Guid id, ClaimsPrincipal user, JobQueries queries, Func<CancellationToken, Task<JobAction>> act, CancellationToken ct)
    {
        var result = await act(ct);
        return result.Status switch
        {
            JobActionStatus.Done => TypedResults.Ok((await queries.GetAsync(Viewer.From(user), id, ct))!),
            JobActionStatus.NotFound => NotFound(id),
            JobActionStatus.Conflict => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status409Conflict, title: "Not possible in the job's state"),
            _ => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request"),
        };
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
