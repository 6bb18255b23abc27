using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Agent.Connection;
using Cocoon.Web.Hosting;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Hosting;

/// <summary>
/// The web side against a real portal: security headers on pages, the API and blobs; state changes
/// refused when a browser sends them from another origin (another port of 127.0.0.1 included) while
/// the portal's own pages and scripts with bearer tokens go through; rate limits with 429 problem details.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class WebHardeningTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Headers_cross_origin_refusals_and_rate_limits()
    {
        var db = await postgres.CreateDatabaseAsync("web_hardening");
        var port = FreePort.Next();
        await using var portal = await PortalProcess.StartAsync(db, port, "portal-web-hardening", new Dictionary<string, string>
        {
            ["Cocoon__RateLimits__TokensPerMinute"] = "3",
            ["Cocoon__RateLimits__DeviceCodesPerMinute"] = "2",
        });

        foreach (var path in new[] { "", "jobs", "healthz", "api/auth/me", "tonconnect-manifest.json", "no-such-page" })
        {
            using var response = await portal.NewClient().GetAsync(path);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.False(response.Headers.Contains("Strict-Transport-Security"), "HSTS is for HTTPS only");
        }

        // A signed-in developer's cookie, used by a form or script on another origin: refused before anything runs.
        var developer = await portal.SignInAsync(new TestWallet());
        var elsewhere = $"http://127.0.0.1:{port + 1}";
        foreach (var (method, path) in new[] { ("POST", "api/tokens"), ("POST", "api/auth/sign-out"), ("POST", "api/uploads"), ("DELETE", $"api/tokens/{Guid.NewGuid()}") })
        {
            using var forged = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { name = "x", scopes = (string[])["jobs:read"], expiresInDays = 1, length = 10 }) };
            forged.Headers.Add("Origin", elsewhere);
            using var refused = await developer.SendAsync(forged);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains(elsewhere, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var noOrigin = new HttpRequestMessage(HttpMethod.Post, "api/uploads") { Content = JsonContent.Create(new { length = 10 }) })
        {
            noOrigin.Headers.Add("Sec-Fetch-Site", "same-site");
            Assert.Equal(HttpStatusCode.Forbidden, (await developer.SendAsync(noOrigin)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await developer.GetAsync("api/auth/me")).StatusCode);
        using (var own = new HttpRequestMessage(HttpMethod.Post, "api/uploads") { Content = JsonContent.Create(new { length = 10 }) })
        {
            own.Headers.Add("Origin", portal.BaseAddress.GetLeftPart(UriPartial.Authority));
            Assert.Equal(HttpStatusCode.Created, (await developer.SendAsync(own)).StatusCode);
        }

        // Token creation: three a minute for this account, then 429 problem details.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await developer.PostAsJsonAsync("api/tokens", new { name = $"t{i}", scopes = (string[])["jobs:read"], expiresInDays = 1 })).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var limited = await developer.PostAsJsonAsync("api/tokens", new { name = "t5", scopes = (string[])["jobs:read"], expiresInDays = 1 });
        Assert.Equal("rate_limited", (await limited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal("60", limited.Headers.RetryAfter?.ToString());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await developer.PostAsJsonAsync("API/Tokens/", new { name = "spelled", scopes = (string[])["jobs:read"], expiresInDays = 1 })).StatusCode);

        // Another account has its own count.
        var other = await portal.SignInAsync(new TestWallet());
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsJsonAsync("api/tokens", new { name = "mine", scopes = (string[])["jobs:read"], expiresInDays = 1 })).StatusCode);

        // Starting the agent device flow: two a minute from one address.
        var device = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var anonymous = portal.NewClient();
            device.Add((await anonymous.PostAsync("connect/device", new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = DevicePairing.ClientId, ["scope"] = DevicePairing.Scope }))).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], device);

        // Signing out ends the session on the server: a copy of the cookie taken before stops working too.
        var jar = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = jar }) { BaseAddress = portal.BaseAddress };
        Assert.True((await new TestWallet().SignInAsync(browser)).IsSuccessStatusCode);
        using var copy = new HttpClient { BaseAddress = portal.BaseAddress };
        copy.DefaultRequestHeaders.Add("Cookie", jar.GetCookieHeader(portal.BaseAddress));
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await browser.PostAsync("api/auth/sign-out", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await copy.GetAsync("api/auth/me")).StatusCode);
    }

    [Fact]
    public void The_origin_check_tells_its_own_pages_from_others()
    {
        static HttpRequest Request(string method, string? origin, string? fetchSite = null)
        {
            var context = new DefaultHttpContext();
            context.Request.Method = method;
            context.Request.Scheme = "http";
            context.Request.Host = new HostString("127.0.0.1", 5080);
            if (origin is not null)
            {
                context.Request.Headers.Origin = origin;
            }

            if (fetchSite is not null)
            {
                context.Request.Headers["Sec-Fetch-Site"] = fetchSite;
            }

            return context.Request;
        }

        Assert.Null(WebHardening.CrossOrigin(Request("GET", "http://evil.example"), null));
        Assert.Null(WebHardening.CrossOrigin(Request("POST", "http://127.0.0.1:5080"), null));
        Assert.Null(WebHardening.CrossOrigin(Request("POST", "https://cocoon.example.com"), "https://cocoon.example.com"));
        Assert.Null(WebHardening.CrossOrigin(Request("POST", null), null));
        Assert.Null(WebHardening.CrossOrigin(Request("POST", null, "same-origin"), null));
        Assert.Equal("http://127.0.0.1:5081", WebHardening.CrossOrigin(Request("POST", "http://127.0.0.1:5081"), null));
        Assert.Equal("null", WebHardening.CrossOrigin(Request("PUT", "null"), null));
        Assert.NotNull(WebHardening.CrossOrigin(Request("DELETE", null, "cross-site"), null));
    }
}
