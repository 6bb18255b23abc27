using Cocoon.Shared.Jobs;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Assets;

/// <summary>Models and datasets: register an uploaded blob under a name and version, list, delete.</summary>
public sealed class AssetCatalog(CocoonDbContext db, IBlobStore store, TimeProvider clock)
{
    public async Task<AssetView> CreateAsync(Guid owner, AssetKind kind, CreateAssetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var name = request.Name?.Trim() ?? "";
        var version = string.IsNullOrWhiteSpace(request.Version) ? "1" : request.Version.Trim();
        if (name.Length is 0 or > 100)
        {
            errors["name"] = ["Give it a name of 1 to 100 characters."];
        }

        if (version.Length > 40)
        {
            errors["version"] = ["A version is at most 40 characters."];
        }

        if (kind == AssetKind.Dataset && request.Rows is null or < 1)
        {
            errors["rows"] = ["A dataset says how many rows its tensors share (the first dimension), at least 1."];
        }

        if (kind == AssetKind.Model && request.Rows is not null)
        {
            errors["rows"] = ["Models have no rows."];
        }

        if (request.OutputElementsPerRow is not null && (kind != AssetKind.Model || request.OutputElementsPerRow is < 1 or > 1L << 40))
        {
            errors["outputElementsPerRow"] = [kind == AssetKind.Model
                ? "A model's output elements per row is between 1 and 2^40, as its declared outputs say (leave it out when they are symbolic)."
                : "Only models declare outputs."];
        }

        var blob = await db.Set<StoredBlob>().AsNoTracking().SingleOrDefaultAsync(b => b.Id == request.BlobId && b.AccountId == owner, cancellationToken);
        if (blob is null)
        {
            errors["blobId"] = ["Upload the sealed file first; blobId must be one of your blobs."];
        }

        if (errors.Count == 0 && await db.Set<Asset>().AnyAsync(a => a.OwnerAccountId == owner && a.Kind == kind && a.Name == name && a.Version == version, cancellationToken))
        {
            errors["version"] = [$"You already have {kind.ToString().ToLowerInvariant()} '{name}' version {version}; choose another version."];
        }

        if (errors.Count > 0)
        {
            throw new InvalidAssetException(errors);
        }

        var asset = new Asset
        {
            Id = Guid.NewGuid(),
            OwnerAccountId = owner,
            Kind = kind,
            Name = name,
            Version = version,
            Format = kind == AssetKind.Model ? "onnx" : "safetensors",
            Rows = request.Rows,
            OutputElementsPerRow = request.OutputElementsPerRow,
            BlobId = blob!.Id,
            Size = blob.Length,
            Digest = blob.Digest,
            CreatedAt = clock.GetUtcNow(),
        };
        db.Add(asset);
        await db.SaveChangesAsync(cancellationToken);
        return AssetView.From(asset);
    }

    public async Task<IReadOnlyList<AssetView>> ListAsync(Guid owner, AssetKind kind, CancellationToken cancellationToken) =>
        (await db.Set<Asset>().AsNoTracking().Where(a => a.OwnerAccountId == owner && a.Kind == kind)
            .OrderBy(a => a.Name).ThenByDescending(a => a.CreatedAt).ToListAsync(cancellationToken))
        .Select(AssetView.From).ToList();

    public async Task<AssetView?> GetAsync(Guid owner, Guid id, CancellationToken cancellationToken) =>
        await db.Set<Asset>().AsNoTracking().SingleOrDefaultAsync(a => a.Id == id && a.OwnerAccountId == owner, cancellationToken) is { } asset
            ? AssetView.From(asset)
            : null;

    /// <summary>Deletes the asset; its blob (and the stored bytes) go when nothing else refers to them.</summary>
    public async Task<bool> DeleteAsync(Guid owner, Guid id, CancellationToken cancellationToken)
    {
        var asset = await db.Set<Asset>().SingleOrDefaultAsync(a => a.Id == id && a.OwnerAccountId == owner, cancellationToken);
        if (asset is null)
        {
            return false;
        }

        if (await db.Jobs.AnyAsync(j => (j.ModelAssetId == id || j.DatasetAssetId == id) && (j.State == JobState.Pending || j.State == JobState.Running || j.State == JobState.Paused), cancellationToken))
        {
            throw new AssetInUseException("A job that has not finished uses it; wait for the job to end first.");
        }

        // Finished jobs forget the asset (their outputs stay); the blob goes with the last reference.
        db.Remove(asset);
        await db.SaveChangesAsync(cancellationToken);
        if (!await db.Set<Asset>().AnyAsync(a => a.BlobId == asset.BlobId, cancellationToken))
        {
            await BlobRemoval.RemoveAsync(db, store, asset.BlobId, asset.Digest, cancellationToken);
        }

        return true;
    }
}
