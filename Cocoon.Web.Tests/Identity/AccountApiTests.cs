using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Web.Features.Identity.ApiTokens;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.Identity;

/// <summary>API tokens and role administration on the real portal, bad requests included.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AccountApiTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Api_tokens_are_shown_once_scoped_revocable_and_expire()
    {
        var db = await postgres.CreateDatabaseAsync("api_tokens");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-tokens");
        using var wallet = new TestWallet();
        var owner = await portal.SignInAsync(wallet);

        var bad = await owner.PostAsJsonAsync("api/tokens", new { name = "", scopes = (string[])["jobs:read", "root"], expiresInDays = 999 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _) && errors.TryGetProperty("scopes", out _) && errors.TryGetProperty("expiresInDays", out _), errors.ToString());
        Assert.Contains("unknown: root", errors.GetProperty("scopes")[0].GetString(), StringComparison.Ordinal);

        var created = await (await owner.PostAsJsonAsync("api/tokens", new { name = "ci", scopes = (string[])["jobs:read", "jobs:write"], expiresInDays = 30 }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var secret = created.GetProperty("secret").GetString()!;
        var id = created.GetProperty("token").GetProperty("id").GetGuid();
        Assert.StartsWith("cct_", secret, StringComparison.Ordinal);

        var listed = (await owner.GetFromJsonAsync<JsonElement>("api/tokens")).EnumerateArray().Single();
        Assert.DoesNotContain(secret, listed.ToString(), StringComparison.Ordinal);
        Assert.Equal(secret[..10], listed.GetProperty("prefix").GetString());

        var script = portal.NewClient();
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        Assert.Equal(HttpStatusCode.Created, (await script.PostAsJsonAsync("api/jobs", new { name = "from a script", matrixSize = 8, matrixCount = 2, matricesPerUnit = 1 })).StatusCode);
        Assert.Single((await script.GetFromJsonAsync<JsonElement>("api/jobs")).EnumerateArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await script.GetAsync("api/agents")).StatusCode);

        // Someone else cannot revoke it; its owner can, and it stops working at once.
        var stranger = await portal.SignInAsync(new TestWallet());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"api/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"api/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await script.GetAsync("api/jobs")).StatusCode);

        // An expired token is refused like a revoked one.
        var second = await (await owner.PostAsJsonAsync("api/tokens", new { name = "short", scopes = (string[])["jobs:read"], expiresInDays = 1 }))
            .Content.ReadFromJsonAsync<JsonElement>();
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", second.GetProperty("secret").GetString());
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("api/jobs")).StatusCode);
        await using (var ledger = PortalDb.Open(db))
        {
            var secondId = second.GetProperty("token").GetProperty("id").GetGuid();
            await ledger.Set<ApiToken>().Where(t => t.Id == secondId).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1)));
        }

        var expired = await script.GetAsync("api/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal("application/problem+json", expired.Content.Headers.ContentType?.MediaType);
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "cct_made-up");
        Assert.Equal(HttpStatusCode.Unauthorized, (await script.GetAsync("api/jobs")).StatusCode);
    }

    [Fact]
    public async Task Role_changes_are_checked_and_audited()
    {
        var db = await postgres.CreateDatabaseAsync("roles");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-roles");
        var admin = await portal.Http.GetFromJsonAsync<JsonElement>("api/auth/me");
        Assert.Contains("Admin", admin.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        var adminId = admin.GetProperty("id").GetGuid();
        var person = await portal.SignInAsync(new TestWallet());
        var personId = (await person.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid();

        async Task<HttpResponseMessage> ChangeAsync(Guid id, object body) => await portal.Http.PostAsJsonAsync($"api/admin/accounts/{id}/roles", body);

        Assert.Equal(HttpStatusCode.BadRequest, (await ChangeAsync(personId, new { role = "Developer", granted = false })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ChangeAsync(personId, new { role = "Emperor", granted = true })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ChangeAsync(personId, new { role = "Finance", granted = true, reason = new string('x', 201) })).StatusCode);
        var selfDemotion = await ChangeAsync(adminId, new { role = "Admin", granted = false });
        Assert.Equal(HttpStatusCode.BadRequest, selfDemotion.StatusCode);
        Assert.Contains("another admin", await selfDemotion.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await ChangeAsync(personId, new { role = "Finance", granted = true, reason = "month-end close" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await person.GetAsync("finance")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await ChangeAsync(personId, new { role = "Finance", granted = false, reason = "close done" })).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await person.GetAsync("finance")).StatusCode);

        var audit = (await portal.Http.GetFromJsonAsync<JsonElement>("api/admin/role-changes")).EnumerateArray().ToList();
        var adminAddress = admin.GetProperty("friendlyAddress").GetString();
        Assert.Equal("close done", audit[0].GetProperty("reason").GetString());
        Assert.False(audit[0].GetProperty("granted").GetBoolean());
        Assert.Equal(adminAddress, audit[0].GetProperty("changedBy").GetString());
        Assert.Equal("month-end close", audit[1].GetProperty("reason").GetString());
        Assert.Contains(audit, a => a.GetProperty("role").GetString() == "Admin" && a.GetProperty("reason").GetString()!.Contains("configured admin wallet", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.GetProperty("role").GetString() == "Provider" && a.GetProperty("changedBy").ValueKind == JsonValueKind.Null);
    }
}
