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

    /// <summary>Reads a job's budget and price cap (nanotons as strings of digits) into it; what does not parse goes to <paramref name="error"/>.</summary>
    public static void ReadMoney(Job job, string? budget, string? maxPricePerTflop, Action<string, string> error)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(error);
        if (!string.IsNullOrWhiteSpace(budget))
        {
            if (Ledger.Ton.TryParseNano(budget.Trim(), out var nano) && nano <= MaxBudget)
            {
                job.Budget = nano;
            }
            else
            {
                error("budget", $"The budget is nanotons as a string of digits, at most {Ledger.Ton.Format(MaxBudget)} TON.");
            }
        }

        if (!string.IsNullOrWhiteSpace(maxPricePerTflop))
        {
            if (Ledger.Ton.TryParseNano(maxPricePerTflop.Trim(), out var nano))
            {
                job.MaxPricePerTflop = nano;
            }
            else
            {
                error("maxPricePerTflop", "The price cap is nanotons per TFLOP as a string of digits.");
            }
        }
    }

    /// <summary>
    /// Reads what a job asks of its agents into it (<see cref="MatchingOptions"/>); what is out of range
    /// goes to <paramref name="error"/> under "matching.…". Absent options leave the defaults: any
    /// device, any attestation, no minimum score or reputation, balanced.
    /// </summary>
    public static void ReadMatching(Job job, MatchingOptions? matching, Action<string, string> error)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(error);
        if (matching is null)
        {
            return;
        }

        if (Parse<DeviceClass>(matching.DeviceClass) is { } device)
        {
            job.DeviceClass = device;
        }
        else
        {
            error("matching.deviceClass", "deviceClass is \"any\", \"gpu\" or \"cpu\".");
        }

        if (Parse<MatchStrategy>(matching.Strategy) is { } strategy)
        {
            job.Strategy = strategy;
        }
        else
        {
            error("matching.strategy", "strategy is \"balanced\", \"cheapest\" or \"fastest\".");
        }

        job.AttestedOnly |= matching.AttestedOnly;
        if (matching.MinBenchmarkScore is { } score && (!double.IsFinite(score) || score < 0 || score > 1e9))
        {
            error("matching.minBenchmarkScore", "minBenchmarkScore is GFLOP/s, from 0 to 1,000,000,000.");
        }
        else
        {
            job.MinBenchmarkScore = matching.MinBenchmarkScore;
        }

        if (matching.MinReputation is { } reputation && (!double.IsFinite(reputation) || reputation < 0 || reputation > 1))
        {
            error("matching.minReputation", "minReputation is a share of units completed, from 0 to 1.");
        }
        else
        {
            job.MinReputation = matching.MinReputation;
        }

        // Absent or blank: the default (the enum's zero); otherwise its name, in any case.
        static T? Parse<T>(string? text)
            where T : struct, Enum =>
            string.IsNullOrWhiteSpace(text) ? default(T)
            : Enum.TryParse<T>(text.Trim(), ignoreCase: true, out var value) && Enum.IsDefined(value) && !int.TryParse(text, out _) ? value
            : null;
    }

    /// <summary>The largest budget one job may hold (a million TON).</summary>
    public const long MaxBudget = 1_000_000 * Ledger.Ton.Nano;

    /// <exception cref="InvalidJobException">The request is out of range; nothing was recorded.</exception>
    /// <exception cref="Ledger.InsufficientFundsException">The owner's balance cannot cover the budget; nothing was recorded.</exception>
    public async Task<Job> SubmitAsync(CreateJobRequest request, Guid ownerAccountId, CancellationToken cancellationToken = default)
    {
        var errors = Validate(request);
        var job = new Job { Id = Guid.CreateVersion7(), Name = "", OwnerAccountId = ownerAccountId };
        ReadMoney(job, request.Budget, request.MaxPricePerTflop, (field, message) => errors[field] = [message]);
        ReadMatching(job, request.Matching, (field, message) => errors[field] = [message]);
        if (errors.Count > 0)
        {
            throw new InvalidJobException(errors);
        }

        job.Name = request.Name.Trim();
        job.State = JobState.Pending;
        job.MatrixSize = request.MatrixSize;
        job.MatrixCount = request.MatrixCount;
        job.MatricesPerUnit = request.MatricesPerUnit;
        job.Seed = request.Seed ?? BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) & long.MaxValue;

        // A product's two inputs and its output, float32, on the device at once.
        job.MinMemoryBytes = 3L * 4 * request.MatrixSize * request.MatrixSize;
        job.CreatedAt = clock.GetUtcNow();
        await RecordAsync(job, [], cancellationToken);
        return job;
    }

    /// <summary>
    /// Stores a validated job with the rows that belong to it (a model job's key grants) and holds its
    /// budget, in one transaction, and enqueues its planning.
    /// </summary>
    /// <exception cref="Ledger.InsufficientFundsException">The owner's balance cannot cover the budget; nothing was recorded.</exception>
    public async Task RecordAsync(Job job, IReadOnlyCollection<object> related, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(related);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            db.Jobs.Add(job);
            db.AddRange(related);
            await db.SaveChangesAsync(cancellationToken);
            await Money.Billing.HoldAsync(db, job.Billed(), clock.GetUtcNow(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        // If this enqueue is lost the sweeper re-plans jobs left pending, so the job cannot be stranded.
        backgroundJobs.Enqueue<PlanJob>(plan => plan.RunAsync(job.Id, CancellationToken.None));
        live.JobChanged(job.Id);
    }
}
