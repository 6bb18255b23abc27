using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Devnet;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Money;

/// <summary>
/// The local devnet takes real wallets' messages: v4r2 and W5 transfers signed by @ton/ton (a second
/// implementation) are checked as the contracts check them and applied, and what they did reads back
/// in toncenter v3's shape.
/// </summary>
public sealed class DevnetTests : IAsyncLifetime, IDisposable
{
    private const string Seed = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    private const string Destination = "0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3";
    private readonly string _url = $"http://127.0.0.1:{FreePort.Next()}/";
    private WebApplication _devnet = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _devnet = DevnetServer.Build(_url);
        await _devnet.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_url) };
    }

    [Theory]
    [InlineData("v4")]
    [InlineData("v5")]
    public async Task A_wallets_signed_transfer_is_checked_applied_and_indexed(string version)
    {
        var validUntil = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        var first = await MessageAsync(version, 0, validUntil, "2000000000", "cocoon-abc123");
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsJsonAsync("devnet/faucet", new { address = first.Address, amount = "5000000000" })).StatusCode);

        var sent = await _http.PostAsJsonAsync("api/v2/sendBoc", new { boc = first.Boc });
        Assert.True(sent.IsSuccessStatusCode, await sent.Content.ReadAsStringAsync());

        var page = await _http.GetFromJsonAsync<JsonElement>($"api/v3/transactions?account={Destination}&limit=10&sort=desc");
        var transaction = Assert.Single(page.GetProperty("transactions").EnumerateArray());
        Assert.Equal(Destination.ToUpperInvariant().Replace("0:", "0:", StringComparison.Ordinal), transaction.GetProperty("account").GetString()!.ToUpperInvariant());
        Assert.False(transaction.GetProperty("description").GetProperty("aborted").GetBoolean());
        var inbound = transaction.GetProperty("in_msg");
        Assert.Equal("2000000000", inbound.GetProperty("value").GetString());
        Assert.Equal("cocoon-abc123", inbound.GetProperty("message_content").GetProperty("decoded").GetProperty("comment").GetString());
        Assert.Equal(first.Address.ToUpperInvariant(), inbound.GetProperty("source").GetString()!.ToUpperInvariant());
        var wallet = await _http.GetFromJsonAsync<JsonElement>($"api/v3/wallet?address={first.Address}");
        Assert.Equal("3000000000", wallet.GetProperty("balance").GetString());
        Assert.Equal(1, wallet.GetProperty("seqno").GetInt32());

        // The same message again (seqno spent), one past its valid_until, and one with a flipped signature byte: refused.
        Assert.Contains("bad_seqno", await RefusalAsync(first.Boc), StringComparison.Ordinal);
        var expired = await MessageAsync(version, 1, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), "1", "late");
        Assert.Contains("expired", await RefusalAsync(expired.Boc), StringComparison.Ordinal);
        var forged = await MessageAsync(version, 1, validUntil, "1", "forged", signingSeed: "ff" + Seed[2..]);
        Assert.Contains("bad_signature", await RefusalAsync(forged.Boc), StringComparison.Ordinal);
        Assert.Contains("bad_boc", await RefusalAsync("bm90IGEgYm9j"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Faults_are_injected_as_told()
    {
        var validUntil = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        var message = await MessageAsync("v4", 0, validUntil, "1000000000", "bounce me", bounce: true);
        await _http.PostAsJsonAsync("devnet/faucet", new { address = message.Address, amount = "2000000000" });
        await _http.PostAsJsonAsync("devnet/faults", new { bounceNext = true, indexingDelaySeconds = 2.0, failNext = 1, failStatus = 503 });

        Assert.True((await _http.PostAsJsonAsync("api/v2/sendBoc", new { boc = message.Boc })).StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.True((await _http.PostAsJsonAsync("api/v2/sendBoc", new { boc = message.Boc })).IsSuccessStatusCode);

        // Not indexed yet: 200 with an empty list, as toncenter says "not yet".
        Assert.Empty((await _http.GetFromJsonAsync<JsonElement>($"api/v3/transactions?account={Destination}")).GetProperty("transactions").EnumerateArray());
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        var bounced = Assert.Single((await _http.GetFromJsonAsync<JsonElement>($"api/v3/transactions?account={Destination}")).GetProperty("transactions").EnumerateArray());
        Assert.True(bounced.GetProperty("description").GetProperty("aborted").GetBoolean());
        var wallet = await _http.GetFromJsonAsync<JsonElement>($"api/v3/wallet?address={message.Address}");
        Assert.Equal("2000000000", wallet.GetProperty("balance").GetString());
    }

    private async Task<string> RefusalAsync(string boc)
    {
        var response = await _http.PostAsJsonAsync("api/v2/sendBoc", new { boc });
        Assert.False(response.IsSuccessStatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    internal static async Task<(string Address, string Boc)> MessageAsync(
        string version, int seqno, long validUntil, string amount, string comment, bool bounce = false, string seed = Seed, string destination = Destination, string? signingSeed = null)
    {
        var (code, output, error) = await Node.RunAsync("test/ton-wallet.mjs", version, seed, seqno.ToString(System.Globalization.CultureInfo.InvariantCulture),
            validUntil.ToString(System.Globalization.CultureInfo.InvariantCulture), destination, amount, comment, bounce ? "bounce" : "no", signingSeed ?? "");
        Assert.True(code == 0, error);
        var result = JsonDocument.Parse(output).RootElement;
        return (result.GetProperty("address").GetString()!, result.GetProperty("boc").GetString()!);
    }

    public void Dispose() => _http.Dispose();

    public async Task DisposeAsync()
    {
        await _devnet.StopAsync();
        await _devnet.DisposeAsync();
    }
}
