namespace Cocoon.Web.Features.Assets;

/// <summary>A model or dataset as the API and pages show it.</summary>
public sealed record AssetView(Guid Id, string Kind, string Name, string Version, string Format, long? Rows, Guid BlobId, long Size, string Digest, DateTimeOffset CreatedAt, long? OutputElementsPerRow = null)
{
    public static AssetView From(Asset asset)
    {
        ArgumentNullException.ThrowIfNull(asset);
        return new(asset.Id, asset.Kind.ToString(), asset.Name, asset.Version, asset.Format, asset.Rows, asset.BlobId, asset.Size, asset.Digest, asset.CreatedAt, asset.OutputElementsPerRow);
    }
}

/// <summary>Register an uploaded blob as a model or dataset.</summary>
public sealed record CreateAssetRequest(string? Name, string? Version, Guid BlobId, long? Rows, long? OutputElementsPerRow = null);
