using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared;
using Cocoon.Shared.Pairing;

namespace Cocoon.Agent.Connection;

/// <summary>
/// Pairs this agent with a provider's account through the OAuth device authorization flow: ask for a
/// code, show it to the person, wait for them to approve it in the portal, then register the agent's
/// public key with the token that approval produced.
/// </summary>
public sealed class DevicePairing(HttpClient http, TextWriter output)
{
    public const string ClientId = "cocoon-agent";
    public const string Scope = "agent.pair";

    /// <param name="deviceDescription">The compute device the agent will use, as the provider would recognise it.</param>
    public async Task<AgentCredentials> PairAsync(Uri portal, string name, string dataDirectory, CancellationToken cancellationToken, string deviceDescription = "")
    {
        ArgumentNullException.ThrowIfNull(portal);
        var endpoints = await PortalEndpoints.DiscoverAsync(http, portal, cancellationToken);
        var device = await PostFormAsync(endpoints.DeviceAuthorizationEndpoint, new()
        {
            ["client_id"] = ClientId,
            ["scope"] = Scope,
            // Shown to the person approving the code, so they can tell it is this machine's.
            ["agent_name"] = name,
            ["machine"] = Environment.MachineName,
            ["device"] = deviceDescription,
            ["agent_version"] = typeof(DevicePairing).Assembly.GetName().Version?.ToString(3) ?? "",
        }, cancellationToken);
        var userCode = device.GetProperty("user_code").GetString()!;
        var deviceCode = device.GetProperty("device_code").GetString()!;
        var verification = device.TryGetProperty("verification_uri_complete", out var complete) ? complete.GetString() : device.GetProperty("verification_uri").GetString();
        var interval = TimeSpan.FromSeconds(device.TryGetProperty("interval", out var i) ? i.GetInt32() : 5);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(device.TryGetProperty("expires_in", out var e) ? e.GetInt32() : 600);

        await output.WriteLineAsync($"To pair this agent, sign in to the portal as a provider and enter the code {userCode}");
        await output.WriteLineAsync($"  {verification}");
        await output.WriteLineAsync("Waiting for approval…");
        await output.FlushAsync(cancellationToken);

        using var key = AgentCredentials.CreateKey(dataDirectory);
        string? accessToken = null;
        while (accessToken is null)
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new PairingFailedException("the code expired before anyone approved it; run pair again.");
            }

            await Task.Delay(interval, cancellationToken);
            using var response = await http.PostAsync(endpoints.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code",
                ["device_code"] = deviceCode,
                ["client_id"] = ClientId,
            }), cancellationToken);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                accessToken = body.GetProperty("access_token").GetString();
                break;
            }

            switch (body.TryGetProperty("error", out var error) ? error.GetString() : null)
            {
                case "authorization_pending":
                    break;
                case "slow_down":
                    interval += TimeSpan.FromSeconds(5);
                    break;
                case "access_denied":
                    throw new PairingFailedException("the pairing was declined in the portal.");
                case "expired_token":
                    throw new PairingFailedException("the code expired before anyone approved it; run pair again.");
                default:
                    throw new PairingFailedException($"the portal refused the pairing: {Describe(body, response)}");
            }
        }

        var parameters = key.ExportParameters(includePrivateParameters: false);
        using var register = new HttpRequestMessage(HttpMethod.Post, new Uri(portal, "api/agents/pair"))
        {
            Content = JsonContent.Create(new PairAgentRequest
            {
                Name = name,
                KeyX = ClientAssertion.Encode(parameters.Q.X),
                KeyY = ClientAssertion.Encode(parameters.Q.Y),
            }, CocoonJsonContext.Default.PairAgentRequest),
        };
        register.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var registered = await http.SendAsync(register, cancellationToken);
        if (!registered.IsSuccessStatusCode)
        {
            throw new PairingFailedException($"the portal did not register the agent's key: {Describe(await registered.Content.ReadFromJsonAsync<JsonElement>(cancellationToken), registered)}");
        }

        var paired = (await registered.Content.ReadFromJsonAsync(CocoonJsonContext.Default.PairAgentResponse, cancellationToken))!;
        var credentials = new AgentCredentials(portal.ToString(), paired.AgentId, paired.ClientId);
        credentials.Save(dataDirectory);
        return credentials;
    }

    private async Task<JsonElement> PostFormAsync(Uri uri, Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(uri, new FormUrlEncodedContent(form), cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return response.IsSuccessStatusCode ? body : throw new PairingFailedException($"the portal refused to start pairing: {Describe(body, response)}");
    }

    private static string Describe(JsonElement body, HttpResponseMessage response) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error_description", out var d) ? d.GetString() ?? ""
        : body.ValueKind == JsonValueKind.Object && body.TryGetProperty("detail", out var detail) ? detail.GetString() ?? ""
        : $"HTTP {(int)response.StatusCode}";
}
