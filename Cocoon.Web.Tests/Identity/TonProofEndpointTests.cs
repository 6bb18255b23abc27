using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.Identity;

/// <summary>The proof endpoints on the real portal: one-time payloads, machine-readable refusals, and a fuzz over HTTP.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TonProofEndpointTests(PostgresFixture postgres)
{
    public const int HttpFuzzIterations = 600;

    [Fact]
    public async Task Payloads_are_single_use_and_refusals_carry_a_code()
    {
        var db = await postgres.CreateDatabaseAsync("proof_endpoint");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-proof");
        using var wallet = new TestWallet();
        var http = portal.NewClient();
        var domain = $"127.0.0.1:{portal.BaseAddress.Port}";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var payload = await PayloadAsync(http);
        Assert.Matches("^[0-9a-f]{64}$", payload);
        var first = await http.PostAsJsonAsync("api/auth/ton-proof", wallet.Proof(payload, domain, now));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("cocoon.session=", string.Join(";", first.Headers.GetValues("Set-Cookie")), StringComparison.Ordinal);
        var cookie = first.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("cocoon.session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        await AssertRefusedAsync(http, wallet.Proof(payload, domain, now), HttpStatusCode.Unauthorized, "payload_reused");
        await AssertRefusedAsync(http, wallet.Proof(new string('a', 64), domain, now), HttpStatusCode.Unauthorized, "unknown_payload");
        await AssertRefusedAsync(http, wallet.Proof(await PayloadAsync(http), "evil.example", now), HttpStatusCode.BadRequest, "domain_mismatch");
        await AssertRefusedAsync(http, wallet.Proof(await PayloadAsync(http), domain, now - 3600), HttpStatusCode.Unauthorized, "expired");
        await AssertRefusedAsync(http, wallet.Proof(await PayloadAsync(http), domain, now, network: "-1"), HttpStatusCode.BadRequest, "wrong_network");

        var stale = await PayloadAsync(http);
        await using (var ledger = PortalDb.Open(db))
        {
            await ledger.Set<ProofPayload>().Where(p => p.Payload == stale)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1)));
        }

        await AssertRefusedAsync(http, wallet.Proof(stale, domain, now), HttpStatusCode.Unauthorized, "payload_expired");

        // Someone else's wallet cannot use this wallet's proof, even with the payload unspent.
        using var other = new TestWallet();
        var stolen = wallet.Proof(await PayloadAsync(http), domain, now) with { PublicKey = Convert.ToHexStringLower(other.PublicKey) };
        await AssertRefusedAsync(http, stolen, HttpStatusCode.Unauthorized, "public_key_mismatch");

        var notJson = await http.PostAsync("api/auth/ton-proof", new StringContent("{ nope", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
    }

    [Fact]
    public async Task Mutated_proofs_and_bodies_over_http_never_get_a_server_error()
    {
        var db = await postgres.CreateDatabaseAsync("proof_fuzz");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-proof-fuzz");
        using var wallet = new TestWallet();
        var http = portal.NewClient();
        var domain = $"127.0.0.1:{portal.BaseAddress.Port}";
        var mutator = new Mutator(42);
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < HttpFuzzIterations; i++)
        {
            var valid = wallet.Proof(await PayloadAsync(http), domain, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            HttpResponseMessage response;
            if (i % 3 == 0)
            {
                var body = mutator.Mutate(JsonSerializer.SerializeToUtf8Bytes(valid));
                response = await http.PostAsync("api/auth/ton-proof", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
            }
            else
            {
                response = await http.PostAsJsonAsync("api/auth/ton-proof", TonFuzzTests.Tamper(mutator, valid));
            }

            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.True(status is 200 or 400 or 401, $"iteration {i}: {status} {await response.Content.ReadAsStringAsync()}");
            if (status == 401 || (status == 400 && i % 3 != 0))
            {
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.True(problem.TryGetProperty("code", out _), $"iteration {i}: no code in {problem}");
            }
        }

        Assert.True(statuses.GetValueOrDefault(400) + statuses.GetValueOrDefault(401) > HttpFuzzIterations / 2, string.Join(", ", statuses));
    }

    [Fact]
    public async Task Sign_in_requests_are_limited_per_client_address()
    {
        var db = await postgres.CreateDatabaseAsync("proof_limit");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-proof-limit",
            new Dictionary<string, string> { ["Cocoon__Identity__SignInRequestsPerMinute"] = "5" });
        var http = portal.NewClient();
        // The admin's sign-in at start used two of the five.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await http.PostAsync("api/auth/ton-proof/payload", null)).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        var limited = await http.PostAsync("api/auth/ton-proof/payload", null);
        Assert.Equal("60", limited.Headers.RetryAfter?.ToString());
        Assert.Equal("rate_limited", (await limited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await portal.Http.GetAsync("api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task Payloads_expired_for_a_day_are_purged_by_the_recurring_job()
    {
        var db = await postgres.CreateDatabaseAsync("proof_purge");
        await using var ledger = PortalDb.Open(db);
        await ledger.Database.MigrateAsync();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var payloads = new ProofPayloads(ledger, clock, Microsoft.Extensions.Options.Options.Create(new WalletSignInOptions()));
        var old = await payloads.IssueAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(12));
        var recent = await payloads.IssueAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(13));

        Assert.Equal(1, await payloads.PurgeExpiredAsync(CancellationToken.None));
        Assert.Equal(0, await payloads.PurgeExpiredAsync(CancellationToken.None));
        Assert.Equal([recent], await ledger.Set<ProofPayload>().Select(p => p.Payload).ToListAsync());
        Assert.NotEqual(old, recent);
    }

    private static async Task<string> PayloadAsync(HttpClient http) =>
        (await (await http.PostAsync("api/auth/ton-proof/payload", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payload").GetString()!;

    private static async Task AssertRefusedAsync(HttpClient http, object proof, HttpStatusCode status, string code)
    {
        var response = await http.PostAsJsonAsync("api/auth/ton-proof", proof);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == status, $"expected {status} {code}, got {response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, body.GetProperty("code").GetString());
    }
}
