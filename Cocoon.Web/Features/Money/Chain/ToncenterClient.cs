using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared.Ton;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Money.Chain;

/// <summary>A message of a chain transaction; addresses raw and lower-case.</summary>
public sealed record ChainMessage(string? Hash, string? Source, string? Destination, ulong Value, bool Bounce, bool Bounced, string? Comment);

/// <summary>A chain transaction: whether it ran (not aborted, compute and action phases succeeded), and its messages.</summary>
/// <param name="Hash">The transaction's hash as lower-case hex, whatever encoding the indexer used.</param>
public sealed record ChainTransaction(string Hash, ulong Lt, string? Account, bool Aborted, bool ComputeSucceeded, bool ActionSucceeded, ChainMessage? In, IReadOnlyList<ChainMessage> Out)
{
    /// <summary>Ran through: not aborted, and its compute and action phases succeeded.</summary>
    public bool Succeeded => !Aborted && ComputeSucceeded && ActionSucceeded;
}

/// <summary>An incoming transfer as the chain watcher needs it.</summary>
/// <param name="Hash">The transaction's hash as lower-case hex, whatever encoding the indexer used.</param>
public sealed record ChainTransfer(string Hash, ulong Lt, bool Aborted, string? Source, ulong Value, bool Bounce, bool Bounced, string? Comment);

/// <summary>
/// Reads the chain through toncenter's API v3 (<c>GET /api/v3/transactions</c> and
/// <c>/api/v3/transactionsByMessage</c>) and sends messages (<c>POST /api/v2/sendBoc</c>), retrying 429
/// and 5xx with backoff. "Not indexed yet" is an empty page, which is normal.
/// </summary>
public sealed class ToncenterClient(HttpClient http, IOptions<TonOptions> options, ILogger<ToncenterClient> logger)
{
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)];

    /// <summary>A page of an account's transactions, newest first, as the deposit watcher reads them.</summary>
    /// <exception cref="HttpRequestException">The API kept failing, or answered something else than toncenter's shape.</exception>
    public async Task<IReadOnlyList<ChainTransfer>> TransactionsAsync(TonAddress account, int limit, int offset, CancellationToken cancellationToken)
    {
        var page = await GetTransactionsAsync($"api/v3/transactions?account={Uri.EscapeDataString(account.ToRaw())}&limit={limit}&offset={offset}&sort=desc", cancellationToken);
        return [.. page.Select(t => t.In is { } m
            ? new ChainTransfer(t.Hash, t.Lt, t.Aborted, m.Source, m.Value, m.Bounce, m.Bounced, m.Comment)
            : new ChainTransfer(t.Hash, t.Lt, t.Aborted, null, 0, false, false, null))];
    }

    /// <summary>
    /// The transactions a message belongs to (<c>GET /api/v3/transactionsByMessage</c>): by its hash, or an
    /// external message by its TEP-467 normalized hash. Empty until indexed.
    /// </summary>
    /// <exception cref="HttpRequestException">The API kept failing, or answered something else than toncenter's shape.</exception>
    public Task<IReadOnlyList<ChainTransaction>> TransactionsByMessageAsync(ReadOnlyMemory<byte> messageHash, CancellationToken cancellationToken) =>
        GetTransactionsAsync($"api/v3/transactionsByMessage?msg_hash={Convert.ToHexStringLower(messageHash.Span)}&limit=10", cancellationToken);

    /// <summary>A page of an account's transactions with their messages, newest first.</summary>
    /// <exception cref="HttpRequestException">The API kept failing, or answered something else than toncenter's shape.</exception>
    public Task<IReadOnlyList<ChainTransaction>> AccountTransactionsAsync(TonAddress account, int limit, int offset, CancellationToken cancellationToken) =>
        GetTransactionsAsync($"api/v3/transactions?account={Uri.EscapeDataString(account.ToRaw())}&limit={limit}&offset={offset}&sort=desc", cancellationToken);

    /// <summary>An account's balance in nanotons (<c>GET /api/v3/wallet</c>).</summary>
    /// <exception cref="HttpRequestException">The API kept failing, or answered without a balance.</exception>
    public Task<long> BalanceAsync(TonAddress account, CancellationToken cancellationToken) =>
        WalletAsync(account, w => long.Parse(w.GetProperty("balance").GetString()!, CultureInfo.InvariantCulture), cancellationToken);

    /// <summary>A wallet's seqno: the next message it takes (<c>GET /api/v3/wallet</c>; 0 for one not deployed).</summary>
    /// <exception cref="HttpRequestException">The API kept failing, or answered without a seqno.</exception>
    public Task<long> SeqnoAsync(TonAddress account, CancellationToken cancellationToken) =>
        WalletAsync(account, w => w.TryGetProperty("seqno", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : 0, cancellationToken);

    private async Task<T> WalletAsync<T>(TonAddress account, Func<JsonElement, T> read, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Url($"api/v3/wallet?address={Uri.EscapeDataString(account.ToRaw())}")), cancellationToken);
        response.EnsureSuccessStatusCode();
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            return read(document.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentNullException)
        {
            throw new HttpRequestException($"toncenter's wallet answer is not readable ({ex.Message}).");
        }
    }

    /// <summary>Hands a signed external message to the chain (<c>POST /api/v2/sendBoc</c>); false when the chain refused it (its reason is logged).</summary>
    public async Task<bool> SendBocAsync(byte[] boc, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, Url("api/v2/sendBoc"))
        {
            Content = JsonContent.Create(new { boc = Convert.ToBase64String(boc) }),
        }, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            logger.LogWarning("The chain refused a message: {Status} {Body}", (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }

        return response.IsSuccessStatusCode;
    }

    private Uri Url(string relative) => new(new Uri(options.Value.Toncenter.BaseUrl!.TrimEnd('/') + "/"), relative);

    private async Task<IReadOnlyList<ChainTransaction>> GetTransactionsAsync(string relative, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Url(relative)), cancellationToken);
        response.EnsureSuccessStatusCode();
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            return [.. document.RootElement.GetProperty("transactions").EnumerateArray().Select(Read)];
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            throw new HttpRequestException($"toncenter's answer is not a transactions page ({ex.Message}).");
        }
    }

    /// <summary>Sends a request (made afresh for each try), retrying 429 and 5xx with backoff; the last answer is returned.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> make, CancellationToken cancellationToken)
    {
        var apiKey = options.Value.Toncenter.ApiKey;
        for (var attempt = 0; ; attempt++)
        {
            using var request = make();
            if (!string.IsNullOrEmpty(apiKey))
            {
                request.Headers.Add("X-API-Key", apiKey);
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HttpRequestException("toncenter did not answer in time.", ex);
            }

            if (response.StatusCode != HttpStatusCode.TooManyRequests && (int)response.StatusCode < 500)
            {
                return response;
            }

            response.Dispose();
            if (attempt >= Backoff.Length)
            {
                throw new HttpRequestException($"toncenter answered {(int)response.StatusCode} {attempt + 1} times.");
            }

            logger.LogInformation("toncenter answered {Status}; retrying in {Delay}", (int)response.StatusCode, Backoff[attempt]);
            await Task.Delay(Backoff[attempt], cancellationToken);
        }
    }

    private static ChainTransaction Read(JsonElement t)
    {
        var d = t.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.Object ? description : default;
        bool Flag(JsonElement parent, string phase, string name) =>
            parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(phase, out var p) && p.ValueKind == JsonValueKind.Object
            && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
        var aborted = d.ValueKind == JsonValueKind.Object && d.TryGetProperty("aborted", out var a) && a.ValueKind == JsonValueKind.True;
        var lt = ulong.Parse(t.GetProperty("lt").GetString()!, CultureInfo.InvariantCulture);
        var account = t.TryGetProperty("account", out var acc) && acc.ValueKind == JsonValueKind.String ? Address(acc.GetString()) : null;
        var inMessage = t.TryGetProperty("in_msg", out var m) && m.ValueKind == JsonValueKind.Object ? Message(m) : null;
        var outMessages = t.TryGetProperty("out_msgs", out var outs) && outs.ValueKind == JsonValueKind.Array ? outs.EnumerateArray().Select(Message).ToList() : [];
        return new ChainTransaction(Hex(t.GetProperty("hash").GetString()), lt, account, aborted, Flag(d, "compute_ph", "success"), Flag(d, "action", "success"), inMessage, outMessages);
    }

    private static ChainMessage Message(JsonElement m)
    {
        var source = m.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.String ? Address(s.GetString()) : null;
        var destination = m.TryGetProperty("destination", out var dst) && dst.ValueKind == JsonValueKind.String ? Address(dst.GetString()) : null;
        var value = m.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? ulong.Parse(v.GetString()!, CultureInfo.InvariantCulture) : 0;
        var bounced = m.TryGetProperty("bounced", out var b) && b.ValueKind == JsonValueKind.True;
        var bounce = m.TryGetProperty("bounce", out var bf) && bf.ValueKind == JsonValueKind.True;
        var hash = m.TryGetProperty("hash", out var h) && h.ValueKind == JsonValueKind.String ? Hex(h.GetString()) : null;

        // The comment from the body itself (op 0 and UTF-8), not from the indexer's decoding.
        string? comment = null;
        if (m.TryGetProperty("message_content", out var content) && content.ValueKind == JsonValueKind.Object && content.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.String)
        {
            try
            {
                comment = CellBuilder.ReadComment(BagOfCells.ParseSingleRoot(Convert.FromBase64String(body.GetString()!)));
            }
            catch (Exception ex) when (ex is TonFormatException or FormatException)
            {
                comment = null;
            }
        }

        return new ChainMessage(hash, source, destination, value, bounce, bounced, comment);
    }

    /// <summary>An address as raw lower-case (the form the portal stores), or as given when it is not one.</summary>
    private static string? Address(string? text) => TonAddress.TryParse(text, out var address) ? address.ToRaw() : text;

    /// <summary>A 32-byte hash in base64, base64url or hex, as lower-case hex (one chain transaction, one reference).</summary>
    private static string Hex(string? text)
    {
        var value = text ?? "";
        var bytes = value.Length == 64 && value.All(char.IsAsciiHexDigit) ? Convert.FromHexString(value) : Convert.FromBase64String(value.Replace('-', '+').Replace('_', '/'));
        return bytes.Length == 32 ? Convert.ToHexStringLower(bytes) : throw new FormatException("a transaction hash is not 32 bytes.");
    }
}
