using System.Net.Http.Json;
using Cocoon.Agent.Connection;
using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Pairing;
using Microsoft.AspNetCore.SignalR.Client;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>An agent's credentials made in the test process with the agent's own pairing code, for tests that talk to the hub directly.</summary>
public static class TestAgents
{
    public static async Task<(AgentCredentials Credentials, string DataDirectory)> PairAsync(PortalProcess portal, string name, HttpClient? provider = null)
    {
        ArgumentNullException.ThrowIfNull(portal);
        var dataDirectory = AgentProcess.NewDataDirectory();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var output = new StringWriter();
        var pairing = new DevicePairing(http, TextWriter.Synchronized(output)).PairAsync(portal.BaseAddress, name, dataDirectory, CancellationToken.None);
        string? code = null;
        await Eventually.HoldsAsync(() =>
        {
            Assert.False(pairing.IsFaulted, pairing.Exception?.GetBaseException().Message);
            var match = System.Text.RegularExpressions.Regex.Match(output.ToString(), "enter the code (\\S+)");
            code = match.Success ? match.Groups[1].Value : null;
            return Task.FromResult(code is not null);
        }, TimeSpan.FromSeconds(30), "the pairing code");
        await portal.ApprovePairingAsync(code!, provider);
        return (await pairing, dataDirectory);
    }

    /// <summary>The device flow by hand, approved by the portal's admin: the pairing access token a real agent would get.</summary>
    public static async Task<string> PairingTokenAsync(PortalProcess portal)
    {
        ArgumentNullException.ThrowIfNull(portal);
        using var http = new HttpClient { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var device = await http.PostAsync("connect/device", new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = DevicePairing.ClientId, ["scope"] = DevicePairing.Scope }));
        var started = await device.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        await portal.ApprovePairingAsync(started.GetProperty("user_code").GetString()!);
        using var token = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code",
            ["device_code"] = started.GetProperty("device_code").GetString()!,
            ["client_id"] = DevicePairing.ClientId,
        }));
        var issued = await token.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.True(token.IsSuccessStatusCode, issued.ToString());
        return issued.GetProperty("access_token").GetString()!;
    }

    public static async Task<TokenResponse> RequestTokenAsync(PortalProcess portal, AgentCredentials credentials, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(portal);
        ArgumentNullException.ThrowIfNull(credentials);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var key = PairedCredentials.LoadKey(dataDirectory);
        var endpoints = await PortalEndpoints.DiscoverAsync(http, portal.BaseAddress, CancellationToken.None);
        return await AgentTokenSource.RequestAsync(http, endpoints, key, credentials.ClientId, DateTimeOffset.UtcNow, CancellationToken.None);
    }

    public static async Task<string> AccessTokenAsync(PortalProcess portal, AgentCredentials credentials, string dataDirectory)
    {
        var response = await RequestTokenAsync(portal, credentials, dataDirectory);
        Assert.False(response.Refused, $"{response.Error}: {response.ErrorDescription}");
        return response.AccessToken!;
    }

    /// <summary>A started connection to the agent hub as a paired test agent (no process behind it).</summary>
    public static async Task<HubConnection> ConnectHubAsync(PortalProcess portal, AgentCredentials credentials, string dataDirectory)
    {
        var token = await AccessTokenAsync(portal, credentials, dataDirectory);
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(portal.BaseAddress, AgentProtocol.HubPath.TrimStart('/')), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .AddJsonProtocol(o => o.PayloadSerializerOptions.TypeInfoResolverChain.Insert(0, CocoonJsonContext.Default))
            .Build();
        await hub.StartAsync();
        return hub;
    }

    /// <summary>The handshake a CPU-only test agent sends; tests change what they are about with <c>with</c>.</summary>
    public static AgentHello Hello(Guid agentId, string name) => new()
    {
        AgentId = agentId,
        Name = name,
        ProtocolVersion = AgentProtocol.Version,
        AgentVersion = "1.0.0",
        Device = new DeviceInfo { Name = "cpu", Kind = DeviceKind.Cpu, MemoryBytes = 16L << 30, ComputeUnits = 1, MaxThreadsPerGroup = 1 },
        AllDevices = [],
        Capacity = 1,
        HeldLeases = [],
    };
}
