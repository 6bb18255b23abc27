namespace Cocoon.Web.Features.Attestation;

/// <summary>Evidence checking for agents' enclave keys, and /api/admin/tdx-measurements (the allow-list).</summary>
public static class AttestationModule
{
    public static void AddCocoonAttestation(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AttestationOptions>().BindConfiguration(AttestationOptions.Section);
        builder.Services.AddSingleton<EvidenceVerifier>();
        builder.Services.AddScoped<TdxMeasurements>();
    }

    public static void MapCocoonAttestation(this WebApplication app) => app.MapAttestationEndpoints();
}
