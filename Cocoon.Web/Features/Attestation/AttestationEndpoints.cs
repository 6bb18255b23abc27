using System.Security.Claims;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cocoon.Web.Features.Attestation;

/// <summary>/api/admin/tdx-measurements: the allow-list of TDX measurements (Admin only).</summary>
public static class AttestationEndpoints
{
    public static void MapAttestationEndpoints(this WebApplication app)
    {
        var group = app.MapGroup("/api/admin/tdx-measurements").WithTags("Attestation").RequireAuthorization(CocoonPolicies.Admin);
        group.MapGet("/", async (TdxMeasurements measurements, CancellationToken ct) => TypedResults.Ok(await measurements.ListAsync(ct)));
        group.MapPost("/", async Task<Results<Created<TdxMeasurementView>, ProblemHttpResult>> (AddTdxMeasurementRequest? request, ClaimsPrincipal user, TdxMeasurements measurements, CancellationToken ct) =>
        {
            try
            {
                var added = await measurements.AddAsync(request ?? new AddTdxMeasurementRequest(null, null), Viewer.From(user).AccountId, ct);
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
                : TypedResults.Problem($"There is no allowed measurement {id}.", statusCode: StatusCodes.Status404NotFound, title: "Measurement not found"));
    }
}
