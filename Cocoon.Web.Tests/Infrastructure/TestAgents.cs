using Cocoon.Agent.Connection;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>An agent's credentials made in the test process with the agent's own pairing code, for tests that talk to the hub directly.</summary>
public static class TestAgents
{
    public static async Task<(AgentCredentials Credentials, string DataDirectory)> PairAsync(PortalProcess portal, string name)
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
        await portal.ApprovePairingAsync(code!);
        return (await pairing, dataDirectory);
    }

    public static async Task<TokenResponse> RequestTokenAsync(PortalProcess portal, AgentCredentials credentials, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(portal);
        ArgumentNullException.ThrowIfNull(credentials);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var key = AgentCredentials.LoadKey(dataDirectory);
        var endpoints = await PortalEndpoints.DiscoverAsync(http, portal.BaseAddress, CancellationToken.None);
        return await AgentTokenSource.RequestAsync(http, endpoints, key, credentials.ClientId, DateTimeOffset.UtcNow, CancellationToken.None);
    }

    public static async Task<string> AccessTokenAsync(PortalProcess portal, AgentCredentials credentials, string dataDirectory)
    {
        var response = await RequestTokenAsync(portal, credentials, dataDirectory);
        Assert.False(response.Refused, $"{response.Error}: {response.ErrorDescription}");
        return response.AccessToken!;
    }
}
