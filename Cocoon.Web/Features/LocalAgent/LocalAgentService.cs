using System.Diagnostics;
using System.Globalization;
using Cocoon.Shared.Pairing;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Agents.Pairing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.LocalAgent;

/// <summary>
/// Runs one real agent (cocoon-agent run) as a child process once the portal listens, so a newcomer
/// has capacity at once. It connects over SignalR to the portal's own address, exactly as a remote
/// agent would; its output lines are logged here, and it is stopped with the portal.
/// </summary>
public sealed class LocalAgentService(
    IServer server,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    IHostEnvironment environment,
    IOptions<LocalAgentOptions> options,
    ILogger<LocalAgentService> logger) : IHostedService, IDisposable
{
    /// <summary>How long the agent gets to hand back its connection before it is killed.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private Process? _agent;
    private bool _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = StartAgentAsync());
        return Task.CompletedTask;
    }

    /// <summary>
    /// The local agent's pairing files, or null when there are none, they are damaged or the key is
    /// missing: the portal then pairs the agent afresh rather than refusing to start it.
    /// </summary>
    public static AgentCredentials? TryLoadCredentials(string dataDirectory)
    {
        try
        {
            return File.Exists(Path.Combine(dataDirectory, AgentCredentials.KeyFileName)) ? AgentCredentials.TryLoad(dataDirectory) : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private async Task StartAgentAsync()
    {
        var settings = options.Value;
        var program = LocalAgentProgram.Find(settings.Command, environment.ContentRootPath, out var tried);
        if (program is null)
        {
            logger.LogError(
                "The local agent is not built: there is no {Tried}. Build it with 'dotnet build Cocoon.Agent -c Release' (scripts/run does), or set Cocoon:LocalAgent:Command to the agent's cocoon-agent.dll. The portal runs on without it.",
                string.Join(" or ", tried));
            return;
        }

        try
        {
            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http", StringComparison.Ordinal))
                ?? throw new InvalidOperationException("the portal has no HTTP address to connect to");
            var portal = new UriBuilder(address);
            if (portal.Host is "0.0.0.0" or "[::]" or "+" or "*")
            {
                portal.Host = "127.0.0.1";
            }

            var dataDirectory = settings.ResolveDataDirectory();
            await EnsurePairedAsync(dataDirectory, settings.Name, portal.Uri, lifetime.ApplicationStopping);
            Start(program, ["run", "--portal", portal.Uri.ToString(), "--name", settings.Name, "--data-dir", dataDirectory, "--device", settings.Device]);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError("The local agent could not start: {Reason}. The portal runs on without it.", ex.Message);
        }
    }

    private void Start(LocalAgentProgram program, string[] args)
    {
        var info = program.StartInfo(args);
        // One line per log entry, so each line forwarded here is a whole message with its level.
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        info.Environment.TryAdd("Logging__LogLevel__Microsoft.Hosting.Lifetime", "Warning");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Forward(e.Data, LogLevel.Information);
        process.ErrorDataReceived += (_, e) => Forward(e.Data, LogLevel.Warning);
        process.Exited += (_, _) => Exited(process);
        lock (_gate)
        {
            if (_stopping)
            {
                process.Dispose();
                return;
            }

            process.Start();
            _agent = process;
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        logger.LogInformation("Local agent '{Name}' started as process {Pid} ({Program}); it connects to {Portal}",
            options.Value.Name, process.Id, program.Location, args[2]);
    }

    /// <summary>Logs one line of the agent's output, at the level the agent's console logger gave it.</summary>
    private void Forward(string? line, LogLevel level)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        var tagged = line.Length > 6 && line[4] == ':' && line[5] == ' ' ? line[..4] switch
        {
            "trce" or "dbug" => LogLevel.Debug,
            "info" => LogLevel.Information,
            "warn" => LogLevel.Warning,
            "fail" or "crit" => LogLevel.Error,
            _ => (LogLevel?)null,
        } : null;
        logger.Log(tagged ?? level, "local agent: {Line}", tagged is null ? line : line[6..]);
    }

    private void Exited(Process process)
    {
        int code;
        lock (_gate)
        {
            // Stopping (and so maybe disposed) is the portal's doing, not news.
            if (_stopping)
            {
                return;
            }

            code = process.ExitCode;
        }

        logger.LogError("The local agent exited with code {Code}; the portal runs on without it (its output is above).", code);
    }

    /// <summary>
    /// The local agent is paired by the portal itself, to no provider's account, so a newcomer sees an
    /// agent online without a pairing step. It still authenticates like any agent: its own key, private_key_jwt.
    /// </summary>
    private async Task EnsurePairedAsync(string dataDirectory, string name, Uri portal, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CocoonDbContext>();
        var existing = TryLoadCredentials(dataDirectory);
        if (existing is not null && db.Agents.Any(a => a.ClientId == existing.ClientId && a.RevokedAt == null))
        {
            return;
        }

        using var key = AgentCredentials.CreateKey(dataDirectory);
        var point = key.ExportParameters(includePrivateParameters: false).Q;
        var paired = await scope.ServiceProvider.GetRequiredService<AgentPairing>().PairAsync(null, new PairAgentRequest
        {
            Name = name,
            KeyX = Base64Url(point.X!),
            KeyY = Base64Url(point.Y!),
        }, cancellationToken);
        new AgentCredentials(portal.ToString(), paired.AgentId, paired.ClientId).Save(dataDirectory);
        logger.LogInformation("Paired the local agent '{Name}' ({AgentId})", name, paired.AgentId);
    }

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <summary>SIGTERM (the agent's graceful stop), then a kill when it takes longer than <see cref="StopGrace"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Process? agent;
        lock (_gate)
        {
            _stopping = true;
            agent = _agent;
        }

        if (agent is null || agent.HasExited)
        {
            return;
        }

        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(StopGrace);
        try
        {
            await TerminateAsync(agent, grace.Token);
            await agent.WaitForExitAsync(grace.Token);
            logger.LogInformation("Local agent stopped");
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("The local agent did not stop within {Seconds} s; killing it", StopGrace.TotalSeconds);
            agent.Kill(entireProcessTree: true);
        }
    }

    private static async Task TerminateAsync(Process agent, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            agent.Kill(entireProcessTree: true);
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", agent.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("kill could not be started.");
        await kill.WaitForExitAsync(cancellationToken);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            if (_agent is { HasExited: false } agent)
            {
                agent.Kill(entireProcessTree: true);
            }

            _agent?.Dispose();
        }
    }
}
