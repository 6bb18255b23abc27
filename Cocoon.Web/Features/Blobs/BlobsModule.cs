using Hangfire;

namespace Cocoon.Web.Features.Blobs;

/// <summary>Sealed blobs: the store, resumable uploads and the hourly clean-up of abandoned ones.</summary>
public static class BlobsModule
{
    public static void AddCocoonBlobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<BlobOptions>()
            .BindConfiguration(BlobOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IBlobStore, FileSystemBlobStore>();
        builder.Services.AddScoped<Uploads>();
        builder.Services.AddScoped<UploadCleanup>();
    }

    public static void MapCocoonBlobs(this WebApplication app)
    {
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<UploadCleanup>(UploadCleanup.JobId, c => c.RunAsync(CancellationToken.None), Cron.Hourly());
        app.MapBlobsEndpoints();
    }
}
