using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Identity;

/// <summary>Every endpoint, page and hub against every kind of caller, on the real portal.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AuthorizationMatrixTests(PostgresFixture postgres)
{
    private const string Anonymous = "anonymous";
    private const string Developer = "developer";
    private const string Provider = "provider";
    private const string Finance = "finance";
    private const string Admin = "admin";
    private const string ApiToken = "api-token (jobs:read)";
    private const string AgentToken = "agent token";

    private static readonly string[] Callers = [Anonymous, Developer, Provider, Finance, Admin, ApiToken, AgentToken];

    private sealed record Row(string Method, string Path, object? Body, Dictionary<string, int> Expected);

    // Statuses per caller; 302 means "redirected", with the target checked separately.
    private static Row R(string method, string path, object? body, int anonymous, int developer, int provider, int finance, int admin, int apiToken, int agentToken) =>
        new(method, path, body, new()
        {
            [Anonymous] = anonymous,
            [Developer] = developer,
            [Provider] = provider,
            [Finance] = finance,
            [Admin] = admin,
            [ApiToken] = apiToken,
            [AgentToken] = agentToken,
        });

    [Fact]
    public async Task Every_endpoint_answers_each_caller_as_designed()
    {
        var db = await postgres.CreateDatabaseAsync("authz_matrix");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-authz");
        var clients = await CallersAsync(portal);
        var job = new CreateJobRequest { Name = "authz", MatrixSize = 8, MatrixCount = 2, MatricesPerUnit = 1 };
        var missing = Guid.NewGuid();

        Row[] rows =
        [
            R("GET", "healthz", null, 200, 200, 200, 200, 200, 200, 200),
            R("POST", "api/auth/ton-proof/payload", null, 200, 200, 200, 200, 200, 200, 200),
            R("GET", "api/auth/me", null, 401, 200, 200, 200, 200, 200, 401),
            R("GET", "api/jobs", null, 401, 200, 200, 200, 200, 200, 401),
            R("POST", "api/jobs", job, 401, 201, 201, 201, 201, 403, 401),
            R("GET", $"api/jobs/{missing}", null, 401, 404, 404, 404, 404, 404, 401),
            R("GET", $"api/jobs/{missing}/cost", null, 401, 404, 404, 404, 404, 404, 401),
            R("POST", $"api/jobs/{missing}/cancel", null, 401, 404, 404, 404, 404, 403, 401),
            R("POST", $"api/jobs/{missing}/pause", null, 401, 404, 404, 404, 404, 403, 401),
            R("POST", $"api/jobs/{missing}/resume", null, 401, 404, 404, 404, 404, 403, 401),
            R("POST", $"api/jobs/{missing}/budget", new { add = "1" }, 401, 404, 404, 404, 404, 403, 401),
            R("POST", $"api/jobs/{missing}/retry", null, 401, 404, 404, 404, 404, 403, 401),
            R("POST", $"api/jobs/{missing}/priority", new { priority = 1 }, 401, 404, 404, 404, 404, 403, 401),
            R("GET", "api/agents", null, 401, 200, 200, 200, 200, 403, 401),
            R("POST", $"api/agents/{missing}/revoke", null, 401, 403, 404, 403, 404, 401, 401),
            R("POST", $"api/agents/{missing}/return-to-work", null, 401, 403, 404, 403, 404, 401, 401),
            R("PUT", $"api/agents/{missing}/price", new { pricePerTflop = "1" }, 401, 403, 404, 403, 404, 401, 401),
            R("GET", "api/earnings", null, 401, 403, 200, 403, 200, 401, 401),
            R("GET", "api/payouts", null, 401, 403, 200, 403, 200, 401, 401),
            R("GET", "api/payouts/settings", null, 401, 403, 200, 403, 200, 401, 401),
            R("PUT", "api/payouts/settings", new { threshold = "5" }, 401, 403, 400, 403, 400, 401, 401),
            R("GET", "api/finance/payables", null, 401, 403, 403, 200, 403, 401, 401),
            R("GET", "api/finance/payout-batches", null, 401, 403, 403, 200, 403, 401, 401),
            R("POST", "api/finance/payout-batches", new { itemIds = Array.Empty<Guid>() }, 401, 403, 403, 400, 403, 401, 401),
            R("GET", $"api/finance/payout-batches/{missing}", null, 401, 403, 403, 404, 403, 401, 401),
            R("POST", $"api/finance/payout-batches/{missing}/approve", new { note = "x" }, 401, 403, 403, 404, 403, 401, 401),
            R("GET", $"api/finance/payout-batches/{missing}/transfer", null, 401, 403, 403, 503, 403, 401, 401),
            R("GET", "api/finance/audit", null, 401, 403, 403, 200, 403, 401, 401),
            R("GET", "api/finance/reconciliation", null, 401, 403, 403, 200, 403, 401, 401),
            R("POST", "api/finance/reconciliation", null, 401, 403, 403, 503, 403, 401, 401),
            R("GET", "api/finance/export/ledger", null, 401, 403, 403, 200, 403, 401, 401),
            R("GET", $"api/finance/providers/{missing}/statement", null, 401, 403, 403, 200, 403, 401, 401),
            R("GET", "api/payouts/statement", null, 401, 403, 200, 403, 200, 401, 401),
            R("GET", "api/account/balance", null, 401, 200, 200, 200, 200, 200, 401),
            R("GET", "api/account/spending", null, 401, 200, 200, 200, 200, 200, 401),
            R("GET", "api/account/statement?format=csv", null, 401, 200, 200, 200, 200, 200, 401),
            R("GET", "api/ledger/trial-balance", null, 401, 403, 403, 200, 200, 401, 401),
            R("GET", "api/ledger/verify", null, 401, 403, 403, 200, 200, 401, 401),
            R("GET", "api/ledger/unattributed", null, 401, 403, 403, 200, 200, 401, 401),
            R("POST", "api/ledger/unattributed/nope/assign", new { wallet = "x" }, 401, 403, 403, 400, 403, 401, 401),
            R("POST", "api/deposits", new { amount = "1" }, 401, 503, 503, 503, 503, 401, 401),
            R("GET", "api/deposits", null, 401, 200, 200, 200, 200, 401, 401),
            R("POST", "api/agents/pair", new { name = "x", keyX = "AA", keyY = "AA" }, 401, 401, 401, 401, 401, 401, 403),
            R("GET", "api/tokens", null, 401, 200, 200, 200, 200, 401, 401),
            R("POST", "api/uploads", new { length = 10 }, 401, 201, 201, 201, 201, 403, 401),
            R("GET", $"api/uploads/{missing}", null, 401, 404, 404, 404, 404, 403, 401),
            R("GET", "api/blobs", null, 401, 200, 200, 200, 200, 200, 401),
            R("GET", "api/models", null, 401, 200, 200, 200, 200, 200, 401),
            R("GET", "api/datasets", null, 401, 200, 200, 200, 200, 200, 401),
            R("POST", "api/datasets", new { name = "x", blobId = missing, rows = 1 }, 401, 400, 400, 400, 400, 403, 401),
            R("PUT", "api/account/encryption-key", new { publicKey = "00" }, 401, 400, 400, 400, 400, 401, 401),
            R("GET", $"api/blobs/{missing}", null, 401, 404, 404, 404, 404, 404, 401),
            R("GET", "api/model-jobs/agents", null, 401, 200, 200, 200, 200, 403, 401),
            R("POST", "api/model-jobs", new { name = "x" }, 401, 400, 400, 400, 400, 403, 401),
            R("GET", $"api/model-jobs/{missing}/outputs", null, 401, 404, 404, 404, 404, 404, 401),
            R("GET", $"api/agent/leases/{missing}/blobs/{missing}", null, 401, 401, 401, 401, 401, 401, 404),
            R("PUT", $"api/agent/leases/{missing}/output", null, 401, 401, 401, 401, 401, 401, 404),
            R("POST", "api/account/provider", null, 401, 204, 204, 204, 204, 401, 401),
            R("GET", "api/admin/accounts", null, 401, 403, 403, 403, 200, 401, 401),
            R("GET", "api/admin/role-changes", null, 401, 403, 403, 403, 200, 401, 401),
            R("POST", $"api/admin/accounts/{missing}/roles", new { role = "Finance", granted = true }, 401, 403, 403, 403, 404, 401, 401),
            R("PUT", $"api/admin/accounts/{missing}/share", new { weight = 2 }, 401, 403, 403, 403, 404, 401, 401),
            R("GET", "api/admin/disputes", null, 401, 403, 403, 403, 200, 401, 401),
            R("GET", "api/admin/tdx-measurements", null, 401, 403, 403, 403, 200, 401, 401),
            R("POST", "api/admin/tdx-measurements", new { mrtd = "00", name = "x" }, 401, 403, 403, 403, 400, 401, 401),
            R("GET", "api/admin/tdx-collateral", null, 401, 403, 403, 403, 200, 401, 401),
            R("POST", "api/admin/tdx-collateral", new { document = "{}" }, 401, 403, 403, 403, 400, 401, 401),
            R("POST", "api/admin/tdx-collateral/refresh", null, 401, 403, 403, 403, 400, 401, 401),
            R("PUT", "api/admin/tdx-collateral/policy", new { acceptSwHardeningNeeded = false }, 401, 403, 403, 403, 204, 401, 401),
            R("GET", "hangfire", null, 401, 403, 403, 403, 200, 401, 401),
            R("POST", "hubs/agents/negotiate?negotiateVersion=1", null, 401, 401, 401, 401, 401, 401, 200),
            R("GET", "jobs", null, 302, 200, 200, 200, 200, 302, 302),
            R("GET", "jobs/new/model", null, 302, 200, 200, 200, 200, 302, 302),
            R("GET", "agents/pair", null, 302, 200, 200, 200, 200, 302, 302),
            R("GET", "account/tokens", null, 302, 200, 200, 200, 200, 302, 302),
            R("GET", "finance", null, 302, 302, 302, 200, 302, 302, 302),
            R("GET", "balance", null, 302, 200, 200, 200, 200, 302, 302),
            R("GET", "earnings", null, 302, 200, 200, 200, 200, 302, 302), // everyone signed in became a provider above (POST api/account/provider)
            R("GET", "ledger", null, 302, 302, 302, 200, 200, 302, 302),
            R("GET", "admin", null, 302, 302, 302, 302, 200, 302, 302),
            R("GET", "admin/measurements", null, 302, 302, 302, 302, 200, 302, 302),
            R("GET", "admin/collateral", null, 302, 302, 302, 302, 200, 302, 302),
            R("GET", "admin/disputes", null, 302, 302, 302, 302, 200, 302, 302),
            R("GET", "signin", null, 200, 200, 200, 200, 200, 200, 200),
        ];

        var failures = new List<string>();
        foreach (var row in rows)
        {
            foreach (var caller in Callers)
            {
                using var request = new HttpRequestMessage(new HttpMethod(row.Method), row.Path);
                if (row.Body is not null)
                {
                    request.Content = JsonContent.Create(row.Body, row.Body.GetType(), options: new JsonSerializerOptions(JsonSerializerDefaults.Web));
                }

                using var response = await clients[caller].SendAsync(request);
                var status = (int)response.StatusCode;
                if (status != row.Expected[caller])
                {
                    failures.Add($"{row.Method} /{row.Path} as {caller}: {status}, expected {row.Expected[caller]}");
                }

                if (status == 302)
                {
                    // Pages send strangers to sign in, and signed-in people without the role to /denied.
                    var target = response.Headers.Location!.ToString();
                    var expected = caller is Anonymous or ApiToken or AgentToken ? "/signin" : "/denied";
                    if (!target.Contains(expected, StringComparison.Ordinal))
                    {
                        failures.Add($"{row.Method} /{row.Path} as {caller}: redirected to {target}, expected {expected}");
                    }
                }

                if (status is 401 or 403 && row.Path.StartsWith("api/", StringComparison.Ordinal) && row.Path != "api/agents/pair"
                    && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"{row.Method} /{row.Path} as {caller}: {status} without problem details");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task A_job_is_visible_to_its_owner_and_admins_only()
    {
        var db = await postgres.CreateDatabaseAsync("authz_jobs");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-authz-jobs");
        using var alice = new TestWallet();
        using var bob = new TestWallet();
        var aliceHttp = await portal.SignInAsync(alice);
        var bobHttp = await portal.SignInAsync(bob);

        var created = await aliceHttp.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "alice's", MatrixSize = 8, MatrixCount = 2, MatricesPerUnit = 1 }, PortalProcess.Json);
        var job = await created.Content.ReadFromJsonAsync<JobView>(PortalProcess.Json);

        Assert.Equal(HttpStatusCode.OK, (await aliceHttp.GetAsync($"api/jobs/{job!.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await portal.Http.GetAsync($"api/jobs/{job.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobHttp.GetAsync($"api/jobs/{job.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobHttp.GetAsync($"api/jobs/{job.Id}/units")).StatusCode);
        Assert.Empty((await bobHttp.GetFromJsonAsync<JsonElement>("api/jobs")).EnumerateArray());
        Assert.Single((await aliceHttp.GetFromJsonAsync<JsonElement>("api/jobs")).EnumerateArray());

        // The detail page renders "no such job" for Bob: the page and the API apply the same rule.
        var page = await bobHttp.GetStringAsync($"jobs/{job.Id}");
        Assert.Contains("There is no job", page, StringComparison.Ordinal);
    }

    private static async Task<Dictionary<string, HttpClient>> CallersAsync(PortalProcess portal)
    {
        var clients = new Dictionary<string, HttpClient>
        {
            [Anonymous] = portal.NewClient(),
            [Admin] = portal.Http,
        };
        foreach (var (name, role) in new[] { (Developer, (string?)null), (Provider, "Provider"), (Finance, "Finance") })
        {
            var wallet = new TestWallet();
            var client = await portal.SignInAsync(wallet);
            if (role is not null)
            {
                var me = await client.GetFromJsonAsync<JsonElement>("api/auth/me");
                (await portal.Http.PostAsJsonAsync($"api/admin/accounts/{me.GetProperty("id").GetGuid()}/roles", new { role, granted = true, reason = "matrix" }))
                    .EnsureSuccessStatusCode();
            }

            clients[name] = client;
        }

        var created = await clients[Developer].PostAsJsonAsync("api/tokens", new { name = "matrix", scopes = (string[])["jobs:read"], expiresInDays = 1 });
        created.EnsureSuccessStatusCode();
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString();
        clients[ApiToken] = portal.NewClient();
        clients[ApiToken].DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);

        var (credentials, dataDirectory) = await TestAgents.PairAsync(portal, "matrix-agent");
        clients[AgentToken] = portal.NewClient();
        clients[AgentToken].DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TestAgents.AccessTokenAsync(portal, credentials, dataDirectory));
        return clients;
    }
}
