using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Hosting.Live;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Jobs;

/// <summary>Validates and records a new job, then enqueues its planning step. Used by the form and the API alike.</summary>
public sealed class JobSubmission(IDbContextFactory<CocoonDbContext> dbFactory, IBackgroundJobClient backgroundJobs, LiveUpdates live, TimeProvider clock)
{
    /// <summary>Field name → messages; empty when the request is valid.</summary>
    private static Dictionary<string, string[]> Validate(CreateJobRequest request)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(request, new ValidationContext(request), results, validateAllProperties: true);
        return results
            .SelectMany(r => (r.MemberNames.Any() ? r.MemberNames : [""]).Select(m => (Member: m, r.ErrorMessage)))
            .GroupBy(e => e.Member, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage ?? "Invalid value.").Distinct().ToArray(), StringComparer.Ordinal);
    }

    /// <exception cref="InvalidJobException">The request is out of range; nothing was recorded.</exception>
    public async Task<Job> SubmitAsync(CreateJobRequest request, Guid ownerAccountId, CancellationToken cancellationToken = default)
    {
        var errors = Validate(request);
        if (errors.Count > 0)
        {
            throw new InvalidJobException(errors);
        }

        var job = new Job
        {
            Id = Guid.CreateVersion7(),
            Name = request.Name.Trim(),
            OwnerAccountId = ownerAccountId,
            State = JobState.Pending,
            MatrixSize = request.MatrixSize,
            MatrixCount = request.MatrixCount,
            MatricesPerUnit = request.MatricesPerUnit,
            Seed = request.Seed ?? BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) & long.MaxValue,
            CreatedAt = clock.GetUtcNow(),
        };
        await RecordAsync(job, [], cancellationToken);
        return job;
    }

    /// <summary>
    /// Stores a validated job with the rows that belong to it (a model job's key grants) in one
    /// transaction, and enqueues its planning.
    /// </summary>
    public async Task RecordAsync(Job job, IReadOnlyCollection<object> related, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(related);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Jobs.Add(job);
            db.AddRange(related);
            await db.SaveChangesAsync(cancellationToken);
        }

        // If this enqueue is lost the sweeper re-plans jobs left pending, so the job cannot be stranded.
        backgroundJobs.Enqueue<PlanJob>(plan => plan.RunAsync(job.Id, CancellationToken.None));
        live.JobChanged(job.Id);
    }
}
