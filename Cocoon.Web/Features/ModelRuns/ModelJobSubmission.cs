using Cocoon.Shared.Attestation;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Sealing;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Assets;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.ModelRuns;

/// <summary>
/// Checks and records a model job. Everything it checks is public: which assets, which agents, that
/// each grant is shaped like one and addressed to the agent's current enclave key, that outputs go
/// to the key the developer registered. What the grants hold it cannot know.
/// </summary>
public sealed class ModelJobSubmission(IDbContextFactory<CocoonDbContext> dbFactory, JobSubmission jobs, TimeProvider clock)
{
    /// <summary>Most agents one job may grant keys to.</summary>
    public const int MaxAgents = 32;

    /// <exception cref="InvalidJobException">Something is wrong; nothing was recorded.</exception>
    public async Task<Job> SubmitAsync(Guid ownerAccountId, CreateModelJobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Error(string field, string message) => (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);

        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > 100)
        {
            Error("name", "Give the job a name of 1 to 100 characters.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var assets = await db.Set<Asset>().AsNoTracking()
            .Where(a => a.OwnerAccountId == ownerAccountId && (a.Id == request.ModelId || a.Id == request.DatasetId))
            .ToListAsync(cancellationToken);
        var model = assets.FirstOrDefault(a => a.Id == request.ModelId && a.Kind == AssetKind.Model);
        var dataset = assets.FirstOrDefault(a => a.Id == request.DatasetId && a.Kind == AssetKind.Dataset);
        if (model is null)
        {
            Error("modelId", "Choose one of your models.");
        }

        if (dataset is null)
        {
            Error("datasetId", "Choose one of your datasets.");
        }
        else if (dataset.Rows is not > 0)
        {
            Error("datasetId", "This dataset has no rows.");
        }

        var rows = dataset?.Rows ?? 0;
        if (request.RowsPerUnit < 1 || request.RowsPerUnit > 1_000_000)
        {
            Error("rowsPerUnit", "Rows per unit must be between 1 and 1,000,000.");
        }
        else if (rows > 0 && (rows + request.RowsPerUnit - 1) / request.RowsPerUnit > CreateJobRequest.MaxUnits)
        {
            Error("rowsPerUnit", $"This would make more than {CreateJobRequest.MaxUnits:N0} units; put more rows in each.");
        }

        var account = await db.Set<Account>().AsNoTracking().SingleAsync(a => a.Id == ownerAccountId, cancellationToken);
        if (account.EncryptionPublicKey is null)
        {
            Error("outputKey", "Create or import your encryption key first: outputs are sealed to it.");
        }
        else if (request.OutputKey is null || !Convert.ToHexStringLower(request.OutputKey).Equals(account.EncryptionPublicKey, StringComparison.OrdinalIgnoreCase))
        {
            Error("outputKey", "Outputs must be sealed to the encryption key registered with your account; this browser holds another. Import your key backup here.");
        }

        var grants = request.Grants ?? [];
        if (grants.Count is 0 or > MaxAgents)
        {
            Error("grants", $"Allow 1 to {MaxAgents} agents to run the job.");
        }

        var ids = grants.Select(g => g.AgentId).ToList();
        if (ids.Distinct().Count() != ids.Count)
        {
            Error("grants", "Each agent may appear once.");
        }

        var agents = await db.Agents.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);
        var records = new List<KeyGrantRecord>();
        foreach (var grant in grants)
        {
            if (!agents.TryGetValue(grant.AgentId, out var agent) || agent.RevokedAt is not null)
            {
                Error("grants", $"There is no agent {grant.AgentId} to grant keys to.");
                continue;
            }

            if (agent.EnclavePublicKey is null || grant.EnclaveKey is null || !agent.EnclavePublicKey.AsSpan().SequenceEqual(grant.EnclaveKey))
            {
                Error("grants", $"Agent '{agent.Name}' has restarted with a new enclave key since the page loaded; reload and submit again.");
                continue;
            }

            if ((request.AttestedOnly || request.Matching?.AttestedOnly == true) && agent.EvidenceKind != EvidenceKind.Tdx)
            {
                Error("grants", $"Agent '{agent.Name}' is not hardware-attested, and you asked for attested agents only.");
                continue;
            }

            var keyId = SealedHeader.KeyId(agent.EnclavePublicKey);
            if (!IsGrantFor(grant.ModelGrant, keyId) || !IsGrantFor(grant.DatasetGrant, keyId))
            {
                Error("grants", $"The grants for agent '{agent.Name}' are not {RecipientStanza.Length}-byte key grants to its enclave key.");
                continue;
            }

            records.Add(new KeyGrantRecord
            {
                Id = Guid.CreateVersion7(),
                AgentId = agent.Id,
                EnclavePublicKey = agent.EnclavePublicKey,
                ModelGrant = grant.ModelGrant!,
                DatasetGrant = grant.DatasetGrant!,
            });
        }

        var money = new Job { Name = "", AttestedOnly = request.AttestedOnly };
        JobSubmission.ReadMoney(money, request.Budget, request.MaxPricePerTflop, Error);
        JobSubmission.ReadMatching(money, request.Matching, Error);
        var redundancy = request.Redundancy ?? 1;
        var spotChecks = request.SpotCheckPercent ?? 0;
        if (redundancy is < 1 or > 3)
        {
            Error("redundancy", "Redundancy is how many distinct agents run each unit: 1, 2 or 3.");
        }
        else if (spotChecks is < 0 or > 100)
        {
            Error("spotCheckPercent", "Spot checks are a percentage of units, 0 to 100.");
        }
        else if (redundancy > 1 && spotChecks > 0)
        {
            Error("spotCheckPercent", "With redundancy every unit is already run on several agents; ask for spot checks or redundancy, not both.");
        }
        else if ((redundancy > 1 || spotChecks > 0) && records.Count < Math.Max(redundancy, 2))
        {
            Error(redundancy > 1 ? "redundancy" : "spotCheckPercent",
                $"Comparing a unit's output takes {Math.Max(redundancy, 2)} distinct agents of one device kind; the job grants its keys to {records.Count}. Grant them to more agents.");
        }

        if (errors.Count > 0)
        {
            throw new InvalidJobException(errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
        }

        var job = new Job
        {
            Id = Guid.CreateVersion7(),
            Budget = money.Budget,
            MaxPricePerTflop = money.MaxPricePerTflop,
            Name = name,
            Kind = JobKind.Model,
            OwnerAccountId = ownerAccountId,
            State = JobState.Pending,
            MatrixSize = 0,
            MatrixCount = checked((int)rows),
            MatricesPerUnit = Math.Min(request.RowsPerUnit, (int)rows),
            ModelAssetId = model!.Id,
            OutputElementsPerRow = model.OutputElementsPerRow,
            DatasetAssetId = dataset!.Id,
            OutputRecipientKey = request.OutputKey,
            CreatedAt = clock.GetUtcNow(),
            DeviceClass = money.DeviceClass,
            AttestedOnly = money.AttestedOnly,
            MinBenchmarkScore = money.MinBenchmarkScore,
            MinReputation = money.MinReputation,
            Strategy = money.Strategy,
            Redundancy = redundancy,
            SpotCheckPercent = spotChecks,

            // The sealed model is its weights and little else: an agent must at least hold those.
            MinMemoryBytes = model.Size,
        };
        foreach (var record in records)
        {
            record.JobId = job.Id;
        }

        await jobs.RecordAsync(job, records, cancellationToken);
        return job;
    }

    private static bool IsGrantFor(byte[]? grant, byte[] keyId) =>
        grant is { Length: RecipientStanza.Length } && grant.AsSpan(0, 8).SequenceEqual(keyId);
}
