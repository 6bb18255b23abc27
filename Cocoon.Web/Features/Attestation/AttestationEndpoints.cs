using System.Security.Claims;
using Cocoon.Web.Features.Attestation.Collateral;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cocoon.Web.Features.Attestation;

/// <summary>/api/admin/tdx-measurements (the allow-list of TDX measurement sets) and /api/admin/tdx-collateral (Intel's collateral, the TCB policy); Admin only.</summary>
public static class AttestationEndpoints
{
    public static void MapAttestationEndpoints(this WebApplication app)
    {
        var group = app.MapGroup("/api/admin/tdx-measurements").WithTags("Attestation").RequireAuthorization(CocoonPolicies.Admin);
        group.MapGet("/", async (TdxMeasurements measurements, CancellationToken ct) => TypedResults.Ok(await measurements.ListAsync(ct)));
        group.MapPost("/", async Task<Results<Created<TdxMeasurementSetView>, ProblemHttpResult>> (AddTdxMeasurementSetRequest? request, ClaimsPrincipal user, TdxMeasurements measurements, CancellationToken ct) =>
        {
            try
            {
                var added = await measurements.AddAsync(request ?? new AddTdxMeasurementSetRequest(null), Viewer.From(user).AccountId, ct);
                return TypedResults.Created($"/api/admin/tdx-measurements/{added.Id}", added);
            }
            catch (InvalidMeasurementException ex)
            {
                return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid measurement");
            }
        });
        group.MapDelete("/{id:guid}", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, TdxMeasurements measurements, CancellationToken ct) =>
            await measurements.RemoveAsync(id, Viewer.From(user).AccountId, ct)
                ? TypedResults.NoContent()
                : TypedResults.Problem($"There is no allowed measurement set {id}.", statusCode: StatusCodes.Status404NotFound, title: "Measurement not found"));

        var collateral = app.MapGroup("/api/admin/tdx-collateral").WithTags("Attestation").RequireAuthorization(CocoonPolicies.Admin);
        collateral.MapGet("/", async (TdxCollateralService service, CancellationToken ct) => TypedResults.Ok(await service.OverviewAsync(ct)));
        collateral.MapPost("/", async Task<Results<Created<CollateralView>, ProblemHttpResult>> (UploadCollateralRequest? request, ClaimsPrincipal user, TdxCollateralService service, EvidenceVerifier verifier, CancellationToken ct) =>
        {
            try
            {
                var stored = await service.StoreAsync(TdxCollateralService.DecodeUpload(request?.Document), request?.IssuerChain, $"uploaded by {user.Identity?.Name ?? "an admin"}", verifier.TdxRoot, ct);
                return TypedResults.Created($"/api/admin/tdx-collateral/{stored.Id}", stored);
            }
            catch (InvalidCollateralException ex)
            {
                return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid collateral");
            }
        });
        collateral.MapPost("/refresh", async Task<Results<Ok<RefreshResult>, ProblemHttpResult>> (TdxCollateralService service, PccsClient pccs, EvidenceVerifier verifier, CancellationToken ct) =>
            pccs.IsConfigured
                ? TypedResults.Ok(new RefreshResult(await service.RefreshAllAsync(verifier.TdxRoot, ct)))
                : TypedResults.Problem($"No PCCS is configured ({AttestationOptions.Section}:PccsUrl); upload the documents instead.", statusCode: StatusCodes.Status400BadRequest, title: "No PCCS"));
        collateral.MapPut("/policy", async (TcbPolicyRequest request, ClaimsPrincipal user, TdxCollateralService service, EvidenceVerifier verifier, CancellationToken ct) =>
        {
            await service.SetPolicyAsync(request.AcceptSwHardeningNeeded, Viewer.From(user).AccountId, verifier.TdxRoot, ct);
            return TypedResults.NoContent();
        });
    }
}

/// <summary>What a refresh from the PCCS could not do, one line per document; empty when everything was refreshed.</summary>
public sealed record RefreshResult(IReadOnlyList<string> Problems);

/// <summary>The admins' TCB policy: besides UpToDate, whether SWHardeningNeeded platforms are accepted.</summary>
public sealed record TcbPolicyRequest(bool AcceptSwHardeningNeeded);
