using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared;
using Cocoon.Shared.Jobs;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>The real portal (Cocoon.Web.dll) as a child process on Kestrel, 127.0.0.1, with test-short timings.</summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private PortalProcess(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

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
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var process = ChildProcess.StartDotnet(Repo.PortalDll, ["--urls", $"http://127.0.0.1:{port}"], environment, logName);
        var portal = new PortalProcess(process, new Uri($"http://127.0.0.1:{port}/"));
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
            return job.State is JobState.Succeeded or JobState.Failed;
        }, timeout, $"job {id} to finish", 100);
        return job;
    }

    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(30));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
