using Cocoon.Agent;
using Cocoon.Agent.Connection;
using Cocoon.Shared.Pairing;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents.Pairing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.LocalAgent;

/// <summary>
/// Starts one real agent in the portal's process once the portal listens, so a newcomer has capacity
/// at once. It connects over SignalR to the portal's own address, exactly as a remote agent would.
/// </summary>
public sealed class LocalAgentService(
    IServer server,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    IOptions<LocalAgentOptions> options,
    ILogger<LocalAgentService> logger) : IHostedService
{
    private IHost? _agent;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = StartAgentAsync());
        return Task.CompletedTask;
    }

    private async Task StartAgentAsync()
    {
        try
        {
            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http", StringComparison.Ordinal))
                ?? throw new InvalidOperationException("the portal has no HTTP address to connect to");
            var portal = new UriBuilder(address);
            if (portal.Host is "0.0.0.0" or "[::]" or "+" or "*")
            {
                portal.Host = "127.0.0.1";
            }

            var settings = options.Value;
            await EnsurePairedAsync(settings.ResolveDataDirectory(), settings.Name, portal.Uri, lifetime.ApplicationStopping);
            var agent = AgentHost.CreateBuilder(new Dictionary<string, string?>
            {
                ["Agent:PortalUrl"] = portal.Uri.ToString(),
                ["Agent:Name"] = settings.Name,
                ["Agent:Device"] = settings.Device,
                ["Agent:DataDirectory"] = settings.ResolveDataDirectory(),
            }, embedded: true).Build();
            await agent.StartAsync(lifetime.ApplicationStopping);
            _agent = agent;
            logger.LogInformation("Local agent '{Name}' started; it connects to {Portal}", settings.Name, portal.Uri);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError("The local agent could not start: {Reason}. The portal runs on without it.", ex.Message);
        }
    }

    /// <summary>
    /// The local agent is paired by the portal itself, to no provider's account, so a newcomer sees an
    /// agent online without a pairing step. It still authenticates like any agent: its own key, private_key_jwt.
    /// </summary>
    private async Task EnsurePairedAsync(string dataDirectory, string name, Uri portal, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CocoonDbContext>();
        var existing = AgentCredentials.TryLoad(dataDirectory);
        if (existing is not null && db.Agents.Any(a => a.ClientId == existing.ClientId && a.RevokedAt == null))
        {
            return;
        }

        using var key = AgentCredentials.CreateKey(dataDirectory);
        var point = key.ExportParameters(includePrivateParameters: false).Q;
        var paired = await scope.ServiceProvider.GetRequiredService<AgentPairing>().PairAsync(null, new PairAgentRequest
        {
            Name = name,
            KeyX = ClientAssertion.Encode(point.X),
            KeyY = ClientAssertion.Encode(point.Y),
        }, cancellationToken);
        new AgentCredentials(portal.ToString(), paired.AgentId, paired.ClientId).Save(dataDirectory);
        logger.LogInformation("Paired the local agent '{Name}' ({AgentId})", name, paired.AgentId);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_agent is not null)
        {
            await _agent.StopAsync(cancellationToken);
            _agent.Dispose();
        }
    }
}
