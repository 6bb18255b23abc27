using System.Globalization;
using System.Net;
using System.Text.Json;
using Cocoon.Shared.Ton;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Money.Chain;

/// <summary>An incoming transfer as the chain watcher needs it.</summary>
/// <param name="Hash">The transaction's hash as lower-case hex, whatever encoding the indexer used.</param>
public sealed record ChainTransfer(string Hash, ulong Lt, bool Aborted, string? Source, ulong Value, bool Bounce, bool Bounced, string? Comment);

/// <summary>
/// Reads an account's transactions from toncenter's API v3 (<c>GET /api/v3/transactions</c>), retrying
/// 429 and 5xx with backoff. "Not indexed yet" is an empty page, which is normal.
/// </summary>
public sealed class ToncenterClient(HttpClient http, IOptions<TonOptions> options, ILogger<ToncenterClient> logger)
{
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)];

    /// <summary>A page of an account's transactions, newest first.</summary>
    /// <exception cref="HttpRequestException">The API kept failing, or answered something else than toncenter's shape.</exception>
    public async Task<IReadOnlyList<ChainTransfer>> TransactionsAsync(TonAddress account, int limit, int offset, CancellationToken cancellationToken)
    {
        var settings = options.Value.Toncenter;
        var url = new Uri(new Uri(settings.BaseUrl!.TrimEnd('/') + "/"), $"api/v3/transactions?account={Uri.EscapeDataString(account.ToRaw())}&limit={limit}&offset={offset}&sort=desc");
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (!string.IsNullOrEmpty(settings.ApiKey))
            {
                request.Headers.Add("X-API-Key", settings.ApiKey);
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

            using var _ = response;
            if (response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500)
            {
                if (attempt >= Backoff.Length)
                {
                    throw new HttpRequestException($"toncenter answered {(int)response.StatusCode} {attempt + 1} times.");
                }

                logger.LogInformation("toncenter answered {Status}; retrying in {Delay}", (int)response.StatusCode, Backoff[attempt]);
                await Task.Delay(Backoff[attempt], cancellationToken);
                continue;
            }

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
    }

    private static ChainTransfer Read(JsonElement t)
    {
        var aborted = t.TryGetProperty("description", out var d) && d.TryGetProperty("aborted", out var a) && a.ValueKind == JsonValueKind.True;
        var lt = ulong.Parse(t.GetProperty("lt").GetString()!, CultureInfo.InvariantCulture);
        if (!t.TryGetProperty("in_msg", out var m) || m.ValueKind != JsonValueKind.Object)
        {
            return new ChainTransfer(Hex(t.GetProperty("hash").GetString()), lt, aborted, null, 0, false, false, null);
        }

        var source = m.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        var value = m.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? ulong.Parse(v.GetString()!, CultureInfo.InvariantCulture) : 0;
        var bounced = m.TryGetProperty("bounced", out var b) && b.ValueKind == JsonValueKind.True;
        var bounce = m.TryGetProperty("bounce", out var bf) && bf.ValueKind == JsonValueKind.True;

        // The comment from the body itself (op 0 and UTF-8), not from the indexer's decoding.
        string? comment = null;
        if (m.TryGetProperty("message_content", out var content) && content.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.String)
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

        return new ChainTransfer(Hex(t.GetProperty("hash").GetString()), lt, aborted, source, value, bounce, bounced, comment);
    }

    /// <summary>A 32-byte hash in base64, base64url or hex, as lower-case hex (one chain transaction, one reference).</summary>
    private static string Hex(string? text)
    {
        var value = text ?? "";
        var bytes = value.Length == 64 && value.All(char.IsAsciiHexDigit) ? Convert.FromHexString(value) : Convert.FromBase64String(value.Replace('-', '+').Replace('_', '/'));
        return bytes.Length == 32 ? Convert.ToHexStringLower(bytes) : throw new FormatException("a transaction hash is not 32 bytes.");
    }
}
