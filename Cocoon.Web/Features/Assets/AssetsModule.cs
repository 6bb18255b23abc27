using Cocoon.Web.Features.Blobs;

namespace Cocoon.Web.Features.Assets;

/// <summary>Models and datasets (sealed blobs with a name), and the developer's encryption key.</summary>
public static class AssetsModule
{
    public static void AddCocoonAssets(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<AssetCatalog>();
        builder.Services.AddScoped<IBlobReferences, AssetBlobReferences>();
    }

    public static void MapCocoonAssets(this WebApplication app) => app.MapAssetsEndpoints();
}
