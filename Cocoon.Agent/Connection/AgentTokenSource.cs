using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cocoon.Agent.Connection;

/// <summary>
/// Gets the agent's access tokens with the client credentials grant, authenticating with a client
/// assertion signed by the agent's key. A fresh token for every connection: they are short-lived and
/// a restarted portal may not know older ones. A refused client (the agent was revoked) stops the agent.
/// </summary>
public sealed class AgentTokenSource(
    AgentIdentity identity,
    AgentRunState runState,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<AgentTokenSource> logger) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly ECDsa _key = AgentCredentials.LoadKey(identity.DataDirectory);
    private PortalEndpoints? _endpoints;

    public async Task<string?> GetAccessTokenAsync()
    {
        var portal = identity.PortalUri;
        _endpoints ??= await PortalEndpoints.DiscoverAsync(_http, portal, CancellationToken.None);
        var assertion = ClientAssertion.Create(_key, identity.ClientId, _endpoints.Issuer, clock.GetUtcNow());
        using var response = await _http.PostAsync(_endpoints.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = identity.ClientId,
            ["client_assertion_type"] = ClientAssertion.Type,
            ["client_assertion"] = assertion,
            ["scope"] = "agent",
        }));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (response.IsSuccessStatusCode)
        {
            return body.GetProperty("access_token").GetString();
        }

        var error = body.TryGetProperty("error", out var e) ? e.GetString() : null;
        var description = body.TryGetProperty("error_description", out var d) ? d.GetString() : response.ReasonPhrase;
        if (error is "invalid_client" or "unauthorized_client")
        {
            logger.LogCritical("The portal refused this agent's credentials: {Description}", description);
            runState.Fail($"the portal at {portal} refused this agent's credentials ({description}); pair it again with cocoon-agent pair.");
            lifetime.StopApplication();
        }

        throw new HttpRequestException($"token request refused: {error}: {description}");
    }

    public void Dispose()
    {
        _http.Dispose();
        _key.Dispose();
    }
}
