using Cocoon.Web.Features.Attestation.Collateral;
using Hangfire;

namespace Cocoon.Web.Features.Attestation;

/// <summary>
/// Evidence checking for agents' enclave keys; /api/admin/tdx-measurements (the allow-list of
/// measurement sets) and /api/admin/tdx-collateral (Intel's collateral and the TCB policy).
/// </summary>
public static class AttestationModule
{
    public static void AddCocoonAttestation(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AttestationOptions>().BindConfiguration(AttestationOptions.Section)
            .Validate(o => string.IsNullOrWhiteSpace(o.PccsUrl) || (Uri.TryCreate(o.PccsUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"),
                $"{AttestationOptions.Section}:PccsUrl must be an absolute http:// or https:// URL.")
            .Validate(o => o.CollateralGrace >= TimeSpan.Zero && o.CollateralGrace <= TimeSpan.FromDays(30),
                $"{AttestationOptions.Section}:CollateralGrace must be between 0 and 30 days.")
            .ValidateOnStart();
        builder.Services.AddSingleton<EvidenceVerifier>();
        builder.Services.AddScoped<TdxMeasurements>();
        builder.Services.AddScoped<TdxCollateralService>();
        builder.Services.AddScoped<CollateralRefresh>();
        builder.Services.AddHttpClient<PccsClient>(c =>
        {
            c.Timeout = TimeSpan.FromSeconds(20);
            c.MaxResponseContentBufferSize = 4 << 20; // Intel's largest document (a PCK CRL) is tens of KiB
        });
    }

    public static void MapCocoonAttestation(this WebApplication app)
    {
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<CollateralRefresh>(CollateralRefresh.JobId, r => r.RunAsync(CancellationToken.None), Cron.Hourly());
        app.MapAttestationEndpoints();
    }
}
