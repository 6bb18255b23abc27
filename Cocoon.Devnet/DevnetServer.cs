using System.Globalization;
using System.Text.Json.Nodes;
using Cocoon.Shared.Ton;

namespace Cocoon.Devnet;

/// <summary>
/// The devnet's HTTP face, in toncenter's shapes: API v3 transactions (by account and by message) and
/// wallet state, v2 <c>sendBoc</c> (and v3 <c>message</c>), plus the devnet's own faucet and fault
/// switches. Amounts are strings, account ids raw upper-case, hashes base64, and "not yet" is 200 with
/// an empty list, as toncenter answers.
/// </summary>
public static class DevnetServer
{
    public static WebApplication Build(string url, TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.Services.AddSingleton(new DevnetChain(clock ?? TimeProvider.System));
        var app = builder.Build();
        Map(app);
        return app;
    }

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(async (context, next) =>
        {
            var faults = context.RequestServices.GetRequiredService<DevnetChain>().Faults;
            if (context.Request.Path.StartsWithSegments("/api") && faults.FailNext > 0)
            {
                faults.FailNext--;
                context.Response.StatusCode = faults.FailStatus;
                await context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = "devnet: injected failure" });
                return;
            }

            await next(context);
        });

        app.MapGet("/api/v3/transactions", (string? account, int? limit, int? offset, string? sort, DevnetChain chain) =>
        {
            if (!TonAddress.TryParse(account, out var address))
            {
                return Results.Json(new JsonObject { ["error"] = "account: invalid address" }, statusCode: 422);
            }

            var list = chain.TransactionsOf(address, Math.Max(offset ?? 0, 0), Math.Clamp(limit ?? 10, 1, 256), !string.Equals(sort, "asc", StringComparison.Ordinal));
            return Results.Json(Page(list));
        });
        app.MapGet("/api/v3/transactionsByMessage", (string? msg_hash, DevnetChain chain) =>
            TryHash(msg_hash, out var hash)
                ? Results.Json(Page(chain.TransactionsByMessage(hash)))
                : Results.Json(new JsonObject { ["error"] = "msg_hash: invalid hash" }, statusCode: 422));
        app.MapGet("/api/v3/wallet", (string? address, DevnetChain chain) =>
            TonAddress.TryParse(address, out var wallet)
                ? Results.Json(new JsonObject
                {
                    ["balance"] = chain.BalanceOf(wallet).ToString(CultureInfo.InvariantCulture),
                    ["seqno"] = chain.SeqnoOf(wallet),
                    ["status"] = chain.SeqnoOf(wallet) > 0 ? "active" : "uninit",
                })
                : Results.Json(new JsonObject { ["error"] = "address: invalid address" }, statusCode: 422));
        app.MapPost("/api/v2/sendBoc", (BocRequest request, DevnetChain chain) => Send(request, chain, v3: false));
        app.MapPost("/api/v3/message", (BocRequest request, DevnetChain chain) => Send(request, chain, v3: true));

        app.MapPost("/devnet/faucet", (FaucetRequest request, DevnetChain chain) =>
        {
            if (!TonAddress.TryParse(request.Address, out var address) || !ulong.TryParse(request.Amount, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            {
                return Results.BadRequest(new JsonObject { ["error"] = "address and amount (nanotons, a string of digits) are required" });
            }

            chain.Fund(address, amount);
            return Results.Ok(new JsonObject { ["balance"] = chain.BalanceOf(address).ToString(CultureInfo.InvariantCulture) });
        });
        app.MapPost("/devnet/faults", (FaultsRequest request, DevnetChain chain) =>
        {
            var faults = chain.Faults;
            faults.IndexingDelay = TimeSpan.FromSeconds(request.IndexingDelaySeconds ?? faults.IndexingDelay.TotalSeconds);
            faults.FailNext = request.FailNext ?? faults.FailNext;
            faults.FailStatus = request.FailStatus ?? faults.FailStatus;
            faults.AbortNext = request.AbortNext ?? faults.AbortNext;
            faults.BounceNext = request.BounceNext ?? faults.BounceNext;
            return Results.NoContent();
        });
        app.MapGet("/", () => "Cocoon devnet: a local TON chain speaking toncenter's API v3 (and v2 sendBoc).");
    }

    private static IResult Send(BocRequest request, DevnetChain chain, bool v3)
    {
        try
        {
            var hash = chain.Send(Convert.FromBase64String(request.Boc ?? ""));
            return v3
                ? Results.Json(new JsonObject { ["message_hash"] = Convert.ToBase64String(hash) })
                : Results.Json(new JsonObject { ["ok"] = true, ["result"] = new JsonObject { ["@type"] = "ok", ["hash"] = Convert.ToBase64String(hash) } });
        }
        catch (Exception ex) when (ex is TonFormatException or FormatException)
        {
            var code = ex is TonFormatException t ? t.Code : "bad_boc";
            return Results.Json(new JsonObject { ["ok"] = false, ["error"] = $"{code}: {ex.Message}", ["code"] = 500 }, statusCode: 500);
        }
    }

    private static JsonObject Page(IReadOnlyList<DevnetTransaction> transactions)
    {
        var array = new JsonArray();
        foreach (var t in transactions)
        {
            array.Add(new JsonObject
            {
                ["account"] = Raw(t.Account),
                ["hash"] = Convert.ToBase64String(t.Hash),
                ["lt"] = t.Lt.ToString(CultureInfo.InvariantCulture),
                ["now"] = t.Now,
                ["orig_status"] = "active",
                ["end_status"] = "active",
                ["total_fees"] = "0",
                ["description"] = new JsonObject
                {
                    ["type"] = "ord",
                    ["aborted"] = t.Aborted,
                    ["destroyed"] = false,
                    ["compute_ph"] = new JsonObject { ["success"] = !t.Aborted, ["exit_code"] = t.Aborted ? 9 : 0 },
                    ["action"] = t.Aborted ? null : new JsonObject { ["success"] = true, ["result_code"] = 0, ["tot_actions"] = t.OutMessages.Count },
                },
                ["in_msg"] = t.InMessage is null ? null : Message(t.InMessage),
                ["out_msgs"] = new JsonArray([.. t.OutMessages.Select(m => (JsonNode)Message(m))]),
            });
        }

        return new JsonObject { ["transactions"] = array, ["address_book"] = new JsonObject() };
    }

    private static JsonObject Message(DevnetMessage m)
    {
        var comment = CellBuilder.ReadComment(m.Body);
        return new JsonObject
        {
            ["hash"] = Convert.ToBase64String(m.Hash),
            ["source"] = m.Source is { } s ? Raw(s) : null,
            ["destination"] = m.Destination is { } d ? Raw(d) : null,
            ["value"] = m.Source is null ? null : m.Value.ToString(CultureInfo.InvariantCulture),
            ["fwd_fee"] = "0",
            ["bounce"] = m.Bounce,
            ["bounced"] = m.Bounced,
            ["opcode"] = m.Body is { BitLength: >= 32 } body ? $"0x{body.BeginParse().LoadUInt(32):x8}" : null,
            ["message_content"] = new JsonObject
            {
                ["body"] = m.Body is null ? null : Convert.ToBase64String(BagOfCells.Serialize(m.Body)),
                ["decoded"] = comment is null ? null : new JsonObject { ["type"] = "text_comment", ["comment"] = comment },
            },
        };
    }

    private static string Raw(TonAddress address) => $"{address.Workchain.ToString(CultureInfo.InvariantCulture)}:{Convert.ToHexString(address.Hash)}";

    private static bool TryHash(string? text, out byte[] hash)
    {
        hash = [];
        try
        {
            hash = text is { Length: 64 } && text.All(char.IsAsciiHexDigit) ? Convert.FromHexString(text) : Convert.FromBase64String((text ?? "").Replace('-', '+').Replace('_', '/'));
        }
        catch (FormatException)
        {
            return false;
        }

        return hash.Length == 32;
    }
}

public sealed record BocRequest(string? Boc);

public sealed record FaucetRequest(string? Address, string? Amount);

public sealed record FaultsRequest(double? IndexingDelaySeconds, int? FailNext, int? FailStatus, bool? AbortNext, bool? BounceNext);
