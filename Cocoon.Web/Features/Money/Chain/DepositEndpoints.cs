using System.Globalization;
using System.Net.Http.Json;
using System.Security.Claims;
using Cocoon.Shared.Ton;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Ledger;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Money.Chain;

/// <summary>A top-up to send: where, with which comment, and the TON Connect request that sends it.</summary>
public sealed record DepositInstructions(string Address, string Comment, string? Amount, TonConnectRequest TonConnect);

/// <summary>TON Connect's <c>sendTransaction</c> request (top-ups, and the treasury's payouts, which also name the network and the signing wallet).</summary>
public sealed record TonConnectRequest(long ValidUntil, IReadOnlyList<TonConnectMessage> Messages)
{
    /// <summary>"-239" mainnet, "-3" testnet; left out when any network will do.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Network { get; init; }

    /// <summary>The wallet that must sign it (raw); left out when any will do.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? From { get; init; }
}

/// <summary>One message of it: amount in nanotons as a string, payload a base64 BoC (the comment).</summary>
public sealed record TonConnectMessage(string Address, string Amount, string Payload)
{
    /// <summary>A message carrying a text comment (op 0 and the UTF-8 text, as a base64 BoC).</summary>
    public static TonConnectMessage WithComment(string address, string amount, string comment) =>
        new(address, amount, Convert.ToBase64String(BagOfCells.Serialize(CellBuilder.Comment(comment))));
}

/// <summary>A deposit seen on chain for the caller.</summary>
public sealed record DepositView(string Hash, DateTimeOffset At, string Amount, string AmountTon, string State);

public sealed record TopUpRequest(string? Amount);

/// <summary>/api/deposits: top-up instructions, the caller's deposits, and a check of the chain now; /api/dev/… for the Development test wallet.</summary>
public static class DepositEndpoints
{
    public static void MapDepositEndpoints(this WebApplication app)
    {
        var deposits = app.MapGroup("/api/deposits").WithTags("Money").RequireAuthorization(CocoonPolicies.Interactive);
        deposits.MapPost("/", InstructionsAsync);
        deposits.MapGet("/", async (ClaimsPrincipal user, CocoonDbContext db, CancellationToken ct) => TypedResults.Ok(await ListAsync(db, Viewer.From(user).AccountId, ct)));
        deposits.MapPost("/check", async Task<Results<Ok<WatchResult>, ProblemHttpResult>> (ClaimsPrincipal user, DepositWatcher watcher, IOptions<TonOptions> options, TimeProvider clock, CancellationToken ct) =>
        {
            if (!options.Value.DepositsEnabled)
            {
                return DepositsOff();
            }

            if (!DepositWatcher.MayCheckNow(Viewer.From(user).AccountId, clock.GetUtcNow()))
            {
                return TypedResults.Problem($"The chain was looked at for you less than {DepositWatcher.ManualCheckInterval.TotalSeconds:N0} seconds ago; the portal also looks every minute.",
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Too many checks");
            }

            try
            {
                return TypedResults.Ok(await watcher.RunAsync(ct));
            }
            catch (HttpRequestException ex)
            {
                return TypedResults.Problem($"The chain could not be read just now: {ex.Message} The portal tries again every minute.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Chain unavailable");
            }
        });

        // The Development test wallet has no app to sign in: the portal passes its transfers to the local devnet.
        if (app.Environment.IsDevelopment())
        {
            var dev = app.MapGroup("/api/dev/devnet").WithTags("Development").RequireAuthorization(CocoonPolicies.Interactive);
            dev.MapPost("/faucet", DevnetAsync("faucet"));
            dev.MapPost("/send", DevnetAsync("send"));
            dev.MapGet("/wallet", DevnetAsync("wallet"));
        }
    }

    /// <summary>The account's deposits as the chain watcher recorded them, newest first.</summary>
    public static async Task<IReadOnlyList<DepositView>> ListAsync(CocoonDbContext db, Guid accountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var unattributed = Ledger.Ledger.Code(LedgerAccountKind.PlatformUnattributed, null);
        var rows = await (from t in db.Set<LedgerTransaction>()
                          where t.Kind == "deposit" && t.OwnerAccountId == accountId
                          orderby t.CreatedAt descending
                          select new
                          {
                              t.Reference,
                              t.CreatedAt,
                              Amount = db.Set<LedgerEntry>().Where(e => e.TransactionId == t.Id && e.Amount > 0).Sum(e => e.Amount),
                              Held = db.Set<LedgerEntry>().Any(e => e.TransactionId == t.Id && db.Set<LedgerAccount>().Any(a => a.Id == e.AccountId && a.Code == unattributed)),
                          }).Take(200).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new DepositView(r.Reference, r.CreatedAt, r.Amount.ToString(CultureInfo.InvariantCulture), Ton.Format(r.Amount), r.Held ? "held for review (below the minimum)" : "credited"))];
    }

    /// <summary>Where and how the account tops up; its deposit code is made on first use.</summary>
    public static async Task<DepositInstructions> CreateInstructionsAsync(CocoonDbContext db, Guid accountId, long? amount, TonOptions settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(settings);
        await db.Database.ExecuteSqlAsync($"INSERT INTO deposit_codes (account_id, code, created_at) VALUES ({accountId}, {DepositCode.New()}, {now}) ON CONFLICT (account_id) DO NOTHING", cancellationToken);
        var code = await db.Set<DepositCode>().Where(c => c.AccountId == accountId).Select(c => c.Code).SingleAsync(cancellationToken);
        var address = settings.Deposit.ToFriendly(bounceable: false, testnet: settings.Network == "testnet");
        var nano = amount?.ToString(CultureInfo.InvariantCulture);
        return new DepositInstructions(address, code, nano, new TonConnectRequest(now.AddMinutes(5).ToUnixTimeSeconds(), [TonConnectMessage.WithComment(address, nano ?? "0", code)]));
    }

    private static async Task<Results<Ok<DepositInstructions>, ProblemHttpResult>> InstructionsAsync(
        TopUpRequest? request, ClaimsPrincipal user, CocoonDbContext db, IOptions<TonOptions> options, TimeProvider clock, CancellationToken ct)
    {
        var settings = options.Value;
        if (!settings.DepositsEnabled)
        {
            return DepositsOff();
        }

        long? amount = null;
        if (!string.IsNullOrWhiteSpace(request?.Amount))
        {
            if (!Ton.TryParseNano(request.Amount.Trim(), out var nano) || nano < settings.MinimumDeposit || nano > 1_000_000 * Ton.Nano)
            {
                return TypedResults.Problem($"amount is nanotons as a string of digits, from {Ton.Format(settings.MinimumDeposit)} TON to 1,000,000 TON.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid amount");
            }

            amount = nano;
        }

        return TypedResults.Ok(await CreateInstructionsAsync(db, Viewer.From(user).AccountId, amount, settings, clock.GetUtcNow(), ct));
    }

    private static Delegate DevnetAsync(string action) => async Task<IResult> (HttpContext http, ClaimsPrincipal user, CocoonDbContext db, IOptions<TonOptions> options, IHttpClientFactory clients, CancellationToken ct) =>
    {
        if (options.Value.DevnetUrl is not { Length: > 0 } devnet)
        {
            return TypedResults.Problem("No devnet is configured (Cocoon:Ton:DevnetUrl).", statusCode: StatusCodes.Status404NotFound);
        }

        var me = Viewer.From(user).AccountId;
        var wallet = await db.Set<Account>().Where(a => a.Id == me).Select(a => a.Address).SingleAsync(ct);
        using var client = clients.CreateClient();
        client.BaseAddress = new Uri(devnet.TrimEnd('/') + "/");
        using var response = action switch
        {
            "faucet" => await FaucetAsync(client, devnet, wallet, ct),
            "wallet" => await client.GetAsync($"api/v3/wallet?address={Uri.EscapeDataString(wallet)}", ct),
            _ => await client.PostAsync("api/v2/sendBoc", new StreamContent(http.Request.Body) { Headers = { ContentType = new("application/json") } }, ct),
        };
        return Results.Content(await response.Content.ReadAsStringAsync(ct), "application/json", statusCode: (int)response.StatusCode);
    };

    /// <summary>Development: 100 test TON from the devnet's faucet to <paramref name="wallet"/>.</summary>
    public static Task<HttpResponseMessage> FaucetAsync(HttpClient client, string devnetUrl, string wallet, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(devnetUrl);
        return client.PostAsJsonAsync(new Uri(new Uri(devnetUrl.TrimEnd('/') + "/"), "devnet/faucet"),
            new { address = wallet, amount = (100 * Ton.Nano).ToString(CultureInfo.InvariantCulture) }, cancellationToken);
    }

    private static ProblemHttpResult DepositsOff() =>
        TypedResults.Problem($"This portal takes no deposits: {TonOptions.Section}:DepositAddress is not set.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Deposits are off");
}
