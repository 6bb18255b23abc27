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
    private readonly ECDsa _key = PairedCredentials.LoadKey(identity.DataDirectory);
    private readonly SemaphoreSlim _cacheLock = new(1, 1);
    private PortalEndpoints? _endpoints;
    private (string Token, DateTimeOffset Until)? _cached;

    /// <summary>A token for plain HTTP calls (blob reads, output uploads), reused for a few minutes of its ten.</summary>
    public async Task<string> GetCachedAccessTokenAsync(CancellationToken cancellationToken)
    {
        await _cacheLock.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } c && c.Until > clock.GetUtcNow())
            {
                return c.Token;
            }

            var token = await GetAccessTokenAsync() ?? throw new HttpRequestException("The portal issued no access token.");
            _cached = (token, clock.GetUtcNow().AddMinutes(5));
            return token;
        }
        finally
        {
            _cacheLock.Release();
        }
    }

    /// <summary>Forgets the cached token (the portal refused it: it restarted with new signing keys, or revoked it).</summary>
    public void InvalidateCachedToken() => _cached = null;

    /// <summary>Signs "under this lease the plaintext output's SHA-256 was this" (<see cref="Shared.Work.OutputStatement"/>) with the key this agent was paired with.</summary>
    public string SignOutputDigest(Guid leaseId, string plainDigest) => Shared.Work.OutputStatement.SignHex(_key, leaseId, plainDigest);

    /// <summary>Signs evidence for the enclave key, answering the portal's <paramref name="nonce"/>, with the key this agent was paired with.</summary>
    public Shared.Attestation.EnclaveEvidence SignEnclaveEvidence(ModelRuns.EnclaveKey enclave, byte[] nonce)
    {
        ArgumentNullException.ThrowIfNull(enclave);
        return enclave.DevelopmentEvidence(_key, identity.AgentId, nonce, clock.GetUtcNow());
    }

    public async Task<string?> GetAccessTokenAsync()
    {
        var portal = identity.PortalUri;
        _endpoints ??= await PortalEndpoints.DiscoverAsync(_http, portal, CancellationToken.None);
        var response = await RequestAsync(_http, _endpoints, _key, identity.ClientId, clock.GetUtcNow(), CancellationToken.None);
        if (!response.Refused)
        {
            return response.AccessToken;
        }

        if (response.Error is "invalid_client" or "unauthorized_client")
        {
            logger.LogCritical("The portal refused this agent's credentials: {Description}", response.ErrorDescription);
            runState.Fail($"the portal at {portal} refused this agent's credentials ({response.ErrorDescription}); pair it again with cocoon-agent pair.");
            lifetime.StopApplication();
        }

        throw new HttpRequestException($"token request refused: {response.Error}: {response.ErrorDescription}");
    }

    /// <summary>One client-credentials request, authenticated by a fresh client assertion.</summary>
    public static async Task<TokenResponse> RequestAsync(HttpClient http, PortalEndpoints endpoints, ECDsa key, string clientId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(endpoints);
        using var response = await http.PostAsync(endpoints.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_assertion_type"] = ClientAssertion.Type,
            ["client_assertion"] = ClientAssertion.Create(key, clientId, endpoints.Issuer, now),
            ["scope"] = "agent",
        }), cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return response.IsSuccessStatusCode
            ? new TokenResponse(body.GetProperty("access_token").GetString(), null, null)
            : new TokenResponse(null,
                body.TryGetProperty("error", out var e) ? e.GetString() : $"http_{(int)response.StatusCode}",
                body.TryGetProperty("error_description", out var d) ? d.GetString() : response.ReasonPhrase);
    }

    public void Dispose()
    {
        _http.Dispose();
        _key.Dispose();
        _cacheLock.Dispose();
    }
}
