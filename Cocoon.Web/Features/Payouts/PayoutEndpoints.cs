using System.Globalization;
using System.Security.Claims;
using System.Text;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Identity.TonProof;

namespace Cocoon.Web.Features.Payouts;

/// <summary>
/// /api/finance/payables, /api/finance/payout-batches (create, read, approve, reject, transfer), /api/finance/audit
/// for Finance; /api/payouts (history), /api/payouts/settings and /api/payouts/wallet for providers.
/// </summary>
public static class PayoutEndpoints
{
    /// <summary>Body of PUT /api/payouts/settings.</summary>
    public sealed record ThresholdRequest(string? Threshold);

    public static void MapPayoutEndpoints(this WebApplication app)
    {
        var finance = app.MapGroup("/api/finance").WithTags("Payouts").RequireAuthorization(CocoonPolicies.Finance);
        finance.MapGet("/payables", async (Guid? provider, string? minAmount, int? olderThanDays, string? format, PayoutBatches batches, CancellationToken ct) =>
        {
            long? min = Ledger.Ton.TryParseNano(minAmount, out var m) ? m : null;
            var items = await batches.PayablesAsync(provider, min, olderThanDays, ct);
            return IsCsv(format) ? Csv(items) : Results.Ok(items);
        });
        finance.MapPost("/payables/refresh", async (Payables payables, CancellationToken ct) => Results.Ok(new { made = await payables.RunAsync(ct) }));
        finance.MapGet("/payout-batches", async (string? format, PayoutBatches batches, CancellationToken ct) =>
        {
            var list = await batches.ListAsync(ct);
            return IsCsv(format) ? BatchesCsv(list) : Results.Ok(list);
        });
        finance.MapPost("/payout-batches", async (CreatePayoutBatchRequest? request, ClaimsPrincipal user, PayoutBatches batches, CancellationToken ct) =>
            Answer(await batches.CreateAsync(Me(user), request?.ItemIds ?? [], ct), created: true));
        finance.MapGet("/payout-batches/{id:guid}", async (Guid id, PayoutBatches batches, CancellationToken ct) =>
            await batches.GetAsync(id, ct) is { } batch ? Results.Ok(batch) : Results.Problem($"There is no payout batch {id}.", statusCode: StatusCodes.Status404NotFound, title: "Not found"));
        finance.MapPost("/payout-batches/{id:guid}/approve", async (Guid id, PayoutDecisionRequest? request, ClaimsPrincipal user, PayoutBatches batches, CancellationToken ct) =>
            Answer(await batches.DecideAsync(Me(user), id, approve: true, request?.Note, ct)));
        finance.MapPost("/payout-batches/{id:guid}/reject", async (Guid id, PayoutDecisionRequest? request, ClaimsPrincipal user, PayoutBatches batches, CancellationToken ct) =>
            Answer(await batches.DecideAsync(Me(user), id, approve: false, request?.Note, ct)));
        finance.MapGet("/payout-batches/{id:guid}/transfer", async (Guid id, int? maxMessages, PayoutTransfers transfers, CancellationToken ct) =>
            Answer(await transfers.RequestAsync(id, maxMessages ?? 4, ct)));
        finance.MapPost("/payout-batches/{id:guid}/transfer", async (Guid id, SubmitTransferRequest? request, ClaimsPrincipal user, PayoutTransfers transfers, CancellationToken ct) =>
            Answer(await transfers.SubmitAsync(Me(user), id, request?.Boc, ct)));
        finance.MapPost("/payouts/check", async (PayoutWatcher watcher, CancellationToken ct) =>
        {
            await watcher.RunAsync(ct);
            return Results.NoContent();
        });
        finance.MapGet("/reconciliation", async (Reconciliation reconciliation, CancellationToken ct) => Results.Ok(await reconciliation.ListAsync(30, ct)));
        finance.MapPost("/reconciliation", async (ClaimsPrincipal user, Reconciliation reconciliation, CancellationToken ct) =>
        {
            try
            {
                return await reconciliation.RunAsync(Me(user), ct) is { } run
                    ? Results.Ok(run)
                    : Results.Problem("No treasury wallet is configured (Cocoon:Payouts:TreasuryAddress or Cocoon:Ton:DepositAddress).", statusCode: StatusCodes.Status503ServiceUnavailable, title: "No treasury");
            }
            catch (HttpRequestException ex)
            {
                return Results.Problem($"The chain did not answer: {ex.Message}", statusCode: StatusCodes.Status502BadGateway, title: "Chain unavailable");
            }
        });
        finance.MapGet("/export/ledger", async (DateTimeOffset? from, DateTimeOffset? to, Statements statements, CancellationToken ct) =>
            Results.Text(Statements.Csv(await statements.EntriesAsync(from, to, null, ct)), "text/csv", Encoding.UTF8));
        finance.MapGet("/export/deposits", async (DateTimeOffset? from, DateTimeOffset? to, Statements statements, CancellationToken ct) =>
            Results.Text(Statements.Csv(await statements.EntriesAsync(from, to, "deposit", ct)), "text/csv", Encoding.UTF8));
        finance.MapGet("/export/payouts", async (DateTimeOffset? from, DateTimeOffset? to, Statements statements, CancellationToken ct) =>
            Results.Text(Statements.Csv(await statements.PaidAsync(from, to, ct)), "text/csv", Encoding.UTF8));
        finance.MapGet("/providers/{id:guid}/statement", async (Guid id, string? format, Statements statements, CancellationToken ct) =>
            Statement(await statements.ProviderAsync(id, ct), format));
        finance.MapGet("/audit", async (string? format, PayoutBatches batches, CancellationToken ct) =>
        {
            var audit = await batches.AuditAsync(1000, ct);
            return IsCsv(format) ? AuditCsv(audit) : Results.Ok(audit);
        });

        var provider = app.MapGroup("/api/payouts").WithTags("Payouts").RequireAuthorization(CocoonPolicies.Provider);
        provider.MapGet("/", async (ClaimsPrincipal user, PayoutBatches batches, CancellationToken ct) => Results.Ok(await batches.HistoryAsync(Me(user), ct)));
        provider.MapGet("/settings", async (ClaimsPrincipal user, PayoutSettingsService settings, CancellationToken ct) => Results.Ok(await settings.GetAsync(Me(user), ct)));
        provider.MapPut("/settings", async (ThresholdRequest? request, ClaimsPrincipal user, PayoutSettingsService settings, CancellationToken ct) =>
            Ledger.Ton.TryParseNano(request?.Threshold, out var threshold)
                ? Answer(await settings.SetThresholdAsync(Me(user), threshold, ct))
                : Results.Problem("Send {\"threshold\": \"<nanotons>\"}, at least 1 TON.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid request"));
        provider.MapPost("/wallet", ChangeWalletAsync);
        provider.MapGet("/statement", async (string? format, ClaimsPrincipal user, Statements statements, CancellationToken ct) =>
            Statement(await statements.ProviderAsync(Me(user), ct), format));
    }

    /// <summary>A new payout wallet, proven by a fresh TON Connect proof signed by that wallet (the same checks as sign-in).</summary>
    private static async Task<IResult> ChangeWalletAsync(TonProofRequest? request, ClaimsPrincipal user, TonProofVerifier verifier, ProofPayloads payloads, PayoutSettingsService settings, CancellationToken ct)
    {
        try
        {
            if (request is null)
            {
                throw TonProofException.BadRequest("bad_request", "Send the new wallet's address, network, public_key and proof as JSON.");
            }

            var wallet = verifier.Verify(request);
            await payloads.SpendAsync(wallet.Payload, ct);
            return Results.Ok(await settings.ChangeWalletAsync(Me(user), wallet.Address, ct));
        }
        catch (TonProofException ex)
        {
            return Results.Problem(ex.Message, statusCode: ex.Status, title: "Wallet proof refused", extensions: new Dictionary<string, object?> { ["code"] = ex.Code });
        }
    }

    private static IResult Statement(ProviderStatement statement, string? format) =>
        IsCsv(format) ? Results.Text(Statements.Csv(statement.Lines), "text/csv", Encoding.UTF8) : Results.Ok(statement);

    private static Guid Me(ClaimsPrincipal user) => Viewer.From(user).AccountId;

    private static IResult Answer<T>(PayoutResult<T> result, bool created = false) =>
        result.Ok
            ? created ? Results.Json(result.Value, statusCode: StatusCodes.Status201Created) : Results.Ok(result.Value)
            : Results.Problem(result.Problem, statusCode: result.Status, title: "Payout refused", extensions: new Dictionary<string, object?> { ["code"] = result.Code });

    private static bool IsCsv(string? format) => string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase);

    private static IResult Csv(IReadOnlyList<PayoutItemView> items)
    {
        var csv = new StringBuilder("id,provider,wallet,amount_nanoton,amount_ton,state,created_at,batch,paid_tx,paid_at,flags\r\n");
        foreach (var i in items)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i.Id},{i.Provider},{i.Wallet},{i.Amount},{i.AmountTon},{i.State},{i.CreatedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{i.BatchId},{i.PaidTxHash},{i.PaidAt?.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{Money.MoneyQueries.Quote(string.Join("; ", i.Flags))}\r\n");
        }

        return Results.Text(csv.ToString(), "text/csv", Encoding.UTF8);
    }

    private static IResult BatchesCsv(IReadOnlyList<PayoutBatchView> batches)
    {
        var csv = new StringBuilder("id,state,proposed_at,maker,checker,decided_at,items,total_nanoton,paid_nanoton,note\r\n");
        foreach (var b in batches)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{b.Id},{b.State},{b.CreatedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{b.CreatedByWallet},{b.DecidedByWallet},{b.DecidedAt?.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{b.ItemCount},{b.Total},{b.Paid},{Money.MoneyQueries.Quote(b.DecisionNote ?? "")}\r\n");
        }

        return Results.Text(csv.ToString(), "text/csv", Encoding.UTF8);
    }

    private static IResult AuditCsv(IReadOnlyList<PayoutAudit> audit)
    {
        var csv = new StringBuilder("id,at,actor,action,batch,item,total_before,total_after,detail\r\n");
        foreach (var a in audit)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{a.Id},{a.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{a.ActorId},{a.Action},{a.BatchId},{a.ItemId},{a.TotalBefore},{a.TotalAfter},{Money.MoneyQueries.Quote(a.Detail)}\r\n");
        }

        return Results.Text(csv.ToString(), "text/csv", Encoding.UTF8);
    }
}
