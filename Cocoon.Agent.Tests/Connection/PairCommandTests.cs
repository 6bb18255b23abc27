using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Cocoon.Agent.Cli;
using Cocoon.Agent.Connection;
using Cocoon.Shared.Pairing;

namespace Cocoon.Agent.Tests.Connection;

/// <summary>The pair command's failures are one line and a non-zero exit; the credentials it leaves are private.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class PairCommandTests
{
    [Theory]
    [InlineData("not a url", 2, "cocoon-agent: --portal must be an absolute http:// or https:// URL")]
    [InlineData("ftp://example.com", 2, "cocoon-agent: --portal must be an absolute http:// or https:// URL")]
    [InlineData("http://127.0.0.1:{port}", 1, "cocoon-agent: pairing failed: ")]
    public async Task Bad_or_unreachable_portals_fail_with_one_line(string portal, int expectedCode, string expectedStart)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now: connection refused

        var (code, error) = await RunAsync("pair", "--portal", portal.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
            "--data-dir", Path.Combine(Path.GetTempPath(), "cocoon-pair-" + Guid.NewGuid().ToString("N")));

        Assert.Equal(expectedCode, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(expectedStart, line, StringComparison.Ordinal);
    }

    [Fact]
    public void The_agent_key_is_readable_by_its_owner_only_and_signs_assertions()
    {
        var directory = Path.Combine(Path.GetTempPath(), "cocoon-key-" + Guid.NewGuid().ToString("N"));
        using var key = AgentCredentials.CreateKey(directory);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, "agent-key.pem")));
        }

        using var loaded = PairedCredentials.LoadKey(directory);
        var assertion = ClientAssertion.Create(loaded, "agent-1", "https://portal.example.com/", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var parts = assertion.Split('.');
        Assert.Equal(3, parts.Length);
        var signed = System.Text.Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}");
        Assert.True(key.VerifyData(signed, FromBase64Url(parts[2]), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        var payload = System.Text.Json.JsonDocument.Parse(FromBase64Url(parts[1])).RootElement;
        Assert.Equal("agent-1", payload.GetProperty("iss").GetString());
        Assert.Equal("agent-1", payload.GetProperty("sub").GetString());
        Assert.Equal("https://portal.example.com/", payload.GetProperty("aud").GetString());
        Assert.Equal(1_700_000_120, payload.GetProperty("exp").GetInt64());

        var credentials = new AgentCredentials("https://portal.example.com/", Guid.NewGuid(), "agent-1");
        credentials.Save(directory);
        Assert.Equal(credentials, PairedCredentials.Load(directory));
        Assert.Throws<AgentNotPairedException>(() => PairedCredentials.Load(Path.Combine(directory, "elsewhere")));
    }

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '='));
    }

    private static async Task<(int Code, string Error)> RunAsync(params string[] args)
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var root = new RootCommand { PairCommand.Create() };
            var code = await root.Parse(args).InvokeAsync();
            return (code, error.ToString());
        }
        finally
        {
            Console.SetError(original);
        }
    }
}
