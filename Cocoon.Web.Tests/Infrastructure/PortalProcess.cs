using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cocoon.Shared;
using Cocoon.Shared.Jobs;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>
/// The real portal (Cocoon.Web.dll) as a child process on Kestrel, 127.0.0.1, with test-short timings.
/// <see cref="Http"/> is signed in with the admin test wallet, which is also a provider.
/// </summary>
public sealed partial class PortalProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly List<HttpClient> _clients = [];

    private PortalProcess(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Http = NewClient();
    }

    /// <summary>The wallet named admin by configuration (a fixed seed, so every portal in the tests knows it).</summary>
    public static TestWallet AdminWallet { get; } = new(System.Security.Cryptography.SHA256.HashData("cocoon-test-admin"u8));

    public Uri BaseAddress { get; }

    /// <summary>The portal's blob store folder (a fresh one per portal unless the test names one).</summary>
    public string BlobRoot { get; private init; } = "";

    public HttpClient Http { get; }

    /// <summary>A client with its own cookie jar and no session; redirects are not followed, so tests see them.</summary>
    public HttpClient NewClient()
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _clients.Add(client);
        return client;
    }

    /// <summary>A client signed in with the wallet (its account is created on first sign-in).</summary>
    public async Task<HttpClient> SignInAsync(TestWallet wallet)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        var client = NewClient();
        var response = await wallet.SignInAsync(client);
        Assert.True(response.IsSuccessStatusCode, $"Sign-in failed: {await response.Content.ReadAsStringAsync()}");
        return client;
    }

    /// <summary>Approves an agent's pairing code on /agents/pair as a provider (default: the admin), through the page's real form.</summary>
    public async Task ApprovePairingAsync(string userCode, HttpClient? provider = null)
    {
        // One at a time: concurrent page loads on one client race on its antiforgery cookie.
        await _approvals.WaitAsync();
        try
        {
            await ApproveAsync(userCode, provider ?? Http);
        }
        finally
        {
            _approvals.Release();
        }
    }

    private readonly SemaphoreSlim _approvals = new(1, 1);

    private static async Task ApproveAsync(string userCode, HttpClient http)
    {
        var page = await http.GetStringAsync($"agents/pair?user_code={Uri.EscapeDataString(userCode)}");
        var token = AntiforgeryField().Match(page);
        Assert.True(token.Success, "The pairing page shows no approval form for the code (no antiforgery token).");
        var response = await http.PostAsync("connect/verify", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["user_code"] = userCode,
            ["decision"] = "approve",
            ["confirm"] = "yes",
        }));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString().Contains("approved=1", StringComparison.Ordinal) == true,
            $"Approving the code answered {(int)response.StatusCode} {response.Headers.Location}: {await response.Content.ReadAsStringAsync()}");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    public string Output => _process.Output;

    public static JsonSerializerOptions Json { get; } = new(CocoonJsonContext.Default.Options);

    public static async Task<PortalProcess> StartAsync(string connectionString, int port, string logName, IDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__Cocoon"] = connectionString,
            ["Cocoon__LocalAgent__Enabled"] = "false",
            ["Cocoon__Jobs__LeaseSeconds"] = "10",
            ["Cocoon__Jobs__HeartbeatSeconds"] = "1",
            ["Cocoon__Jobs__AgentTimeoutSeconds"] = "5",
            ["Cocoon__Jobs__SweepSeconds"] = "1",
            ["Cocoon__Identity__AdminWallet"] = AdminWallet.Address.ToRaw(),
            ["Cocoon__Blobs__Root"] = Path.Combine(Path.GetTempPath(), "cocoon-blobs-" + Guid.NewGuid().ToString("N")),
            ["Cocoon__Identity__TestWallet"] = "true",
            // The fuzz and matrix tests sign in far more often than a person; the limit itself is tested with its own setting.
            ["Cocoon__Identity__SignInRequestsPerMinute"] = "100000",
            ["Cocoon__RateLimits__DeviceCodesPerMinute"] = "100000",
            ["Cocoon__RateLimits__CodeChecksPerMinute"] = "100000",
            ["Cocoon__RateLimits__UploadsPerMinute"] = "100000",
            ["Cocoon__RateLimits__JobsPerMinute"] = "100000",
            ["Cocoon__RateLimits__TokensPerMinute"] = "100000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var process = ChildProcess.StartDotnet(Repo.PortalDll, ["--urls", $"http://127.0.0.1:{port}"], environment, logName);
        var portal = new PortalProcess(process, new Uri($"http://127.0.0.1:{port}/")) { BlobRoot = environment["Cocoon__Blobs__Root"] };
        await Eventually.HoldsAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The portal exited with {process.ExitCode}:\n{process.Output}");
            }

            try
            {
                return (await portal.Http.GetAsync("healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(90), "the portal to answer /healthz", 200);
        var signIn = await AdminWallet.SignInAsync(portal.Http);
        Assert.True(signIn.IsSuccessStatusCode, $"The admin could not sign in: {await signIn.Content.ReadAsStringAsync()}");
        (await portal.Http.PostAsync("api/account/provider", null)).EnsureSuccessStatusCode();
        return portal;
    }

    public async Task<int> AgentsOnlineAsync() =>
        (await Http.GetFromJsonAsync<JsonElement>("healthz")).GetProperty("agentsOnline").GetInt32();

    /// <summary>Waits until /healthz counts exactly this many agents online.</summary>
    public Task WaitForAgentsOnlineAsync(int count) =>
        Eventually.HoldsAsync(async () => await AgentsOnlineAsync() == count, TimeSpan.FromSeconds(60), $"{count} agent(s) to come online");

    public async Task<JobView> SubmitAsync(CreateJobRequest request)
    {
        var response = await Http.PostAsJsonAsync("api/jobs", request, Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JobView>(Json))!;
    }

    public async Task<JobView> JobAsync(Guid id) => (await Http.GetFromJsonAsync<JobView>($"api/jobs/{id}", Json))!;

    public async Task<IReadOnlyList<WorkUnitView>> UnitsAsync(Guid id) =>
        (await Http.GetFromJsonAsync<IReadOnlyList<WorkUnitView>>($"api/jobs/{id}/units", Json))!;

    public async Task<JobView> WaitForJobAsync(Guid id, TimeSpan timeout)
    {
        JobView job = null!;
        await Eventually.HoldsAsync(async () =>
        {
            job = await JobAsync(id);
            return job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
        }, timeout, $"job {id} to finish", 100);
        return job;
    }

    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(30));

    /// <summary>SIGKILL: the portal dies wherever it is, between a transaction's commit and the next.</summary>
    public void Kill() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _process.DisposeAsync();
    }
}
