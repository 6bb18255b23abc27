using System.Threading.Channels;
using Cocoon.Agent.Inference;
using Cocoon.Agent.ModelRuns;
using Cocoon.Agent.Options;
using Cocoon.Agent.Work;
using Cocoon.Shared;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Work;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.Connection;

/// <summary>
/// The agent's one outbound connection to the portal's agent hub: connects and reconnects with
/// backoff, registers (the protocol handshake) on every connection, heartbeats, receives assignments
/// and delivers finished results from the outbox until the portal acknowledges them.
/// </summary>
public sealed class PortalConnection(
    IOptions<AgentOptions> options,
    AgentIdentity identity,
    AgentTokenSource tokens,
    EnclaveEvidenceSource evidence,
    InferenceDevice device,
    WorkInbox queue,
    ResultOutbox outbox,
    AgentRunState runState,
    IHostApplicationLifetime lifetime,
    ILogger<PortalConnection> logger) : BackgroundService
{
    private static readonly string AgentVersion =
        typeof(PortalConnection).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private HubConnection? _connection;
    private volatile bool _registered;
    private TimeSpan _heartbeatInterval = TimeSpan.FromSeconds(5);
    private DateTime _nextHeartbeat;

    /// <summary>Asks the connection loop to deliver the outbox now.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Sends progress if connected; progress is advisory, so a failure is only logged.</summary>
    public void TrySendProgress(UnitProgress progress)
    {
        var connection = _connection;
        if (!_registered || connection is null)
        {
            return;
        }

        _ = connection.SendAsync(nameof(IAgentHub.ReportProgressAsync), progress).ContinueWith(
            t => logger.LogDebug("Progress not sent: {Reason}", t.Exception?.GetBaseException().Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>
    /// Sends the agent's benchmark once registered. False: not registered yet, or the call failed and is
    /// worth retrying. True: sent, or refused by the portal (an older one without the method), which is not.
    /// </summary>
    public async Task<bool> TryReportBenchmarkAsync(AgentBenchmark benchmark, CancellationToken cancellationToken)
    {
        var connection = _connection;
        if (!_registered || connection is null)
        {
            return false;
        }

        try
        {
            await connection.InvokeAsync(nameof(IAgentHub.ReportBenchmarkAsync), benchmark, cancellationToken);
            return true;
        }
        catch (HubException ex)
        {
            logger.LogWarning("The portal did not take the benchmark: {Reason}", ex.Message);
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or TaskCanceledException)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var hubUrl = new Uri(new Uri(settings.PortalUrl.TrimEnd('/') + "/"), AgentProtocol.HubPath.TrimStart('/'));
        var ceiling = TimeSpan.FromSeconds(settings.MaxReconnectDelaySeconds);
        _connection = new HubConnectionBuilder()
            .WithUrl(hubUrl, o => o.AccessTokenProvider = tokens.GetAccessTokenAsync)
            .WithAutomaticReconnect(new BackoffRetryPolicy(ceiling))
            .AddJsonProtocol(o => o.PayloadSerializerOptions.TypeInfoResolverChain.Insert(0, CocoonJsonContext.Default))
            .Build();
        _connection.On<WorkAssignment>(nameof(IAgentClient.AssignAsync), OnAssigned);
        _connection.On<Guid>(nameof(IAgentClient.CancelAsync), queue.Cancel);
        _connection.Reconnecting += error =>
        {
            _registered = false;
            logger.LogWarning("Lost the portal at {Url} ({Reason}); reconnecting", hubUrl, error?.Message ?? "closed");
            return Task.CompletedTask;
        };
        _connection.Reconnected += _ =>
        {
            Wake();
            return Task.CompletedTask;
        };
        _connection.Closed += _ =>
        {
            _registered = false;
            Wake();
            return Task.CompletedTask;
        };

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_connection.State == HubConnectionState.Disconnected)
                {
                    await _connection.StartAsync(stoppingToken);
                }

                if (_connection.State == HubConnectionState.Connected && !_registered)
                {
                    await RegisterAsync(hubUrl, stoppingToken);
                }

                if (_registered)
                {
                    await DeliverOutboxAsync(stoppingToken);
                    if (DateTime.UtcNow >= _nextHeartbeat)
                    {
                        await _connection.InvokeAsync(nameof(IAgentHub.HeartbeatAsync),
                            new AgentHeartbeat { ActiveLeases = queue.ActiveLeases }, stoppingToken);
                        _nextHeartbeat = DateTime.UtcNow + _heartbeatInterval;
                    }
                }

                failures = 0;
                await WaitForWakeAsync(_registered ? _nextHeartbeat - DateTime.UtcNow : TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (HubException ex) when (ex.Message.Contains(AgentProtocol.RefusalPrefix, StringComparison.Ordinal))
            {
                var reason = ex.Message[(ex.Message.IndexOf(AgentProtocol.RefusalPrefix, StringComparison.Ordinal) + AgentProtocol.RefusalPrefix.Length)..];
                logger.LogCritical("The portal at {Url} refused this agent: {Reason}", hubUrl, reason);
                runState.Fail($"the portal at {hubUrl} refused this agent: {reason}");
                lifetime.StopApplication();
                break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                _registered = false;
                var delay = BackoffRetryPolicy.Delay(failures++, ceiling);
                logger.LogWarning("Portal at {Url} not reachable ({Reason}); retrying in {Delay:N1} s", hubUrl, ex.Message, delay.TotalSeconds);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        await _connection.DisposeAsync();
    }

    private async Task RegisterAsync(Uri hubUrl, CancellationToken cancellationToken)
    {
        var challenge = await _connection!.InvokeAsync<AttestationChallenge>(nameof(IAgentHub.ChallengeAsync), cancellationToken);
        var hello = new AgentHello
        {
            AgentId = identity.AgentId,
            Name = options.Value.Name,
            ProtocolVersion = AgentProtocol.Version,
            AgentVersion = AgentVersion,
            Device = device.Info,
            AllDevices = device.AllDevices,
            Capacity = options.Value.Capacity,
            HeldLeases = [.. queue.ActiveLeases.Concat(outbox.HeldLeases).Distinct()],
            Enclave = evidence.Answer(identity.AgentId, challenge.Nonce),
        };
        var welcome = await _connection!.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), hello, cancellationToken);
        _heartbeatInterval = TimeSpan.FromSeconds(welcome.HeartbeatSeconds);
        _nextHeartbeat = DateTime.UtcNow + _heartbeatInterval;
        _registered = true;
        logger.LogInformation(
            "Registered with the portal at {Url} as '{Name}' ({AgentId}) on {Kind} device '{Device}'; {Resumed} lease(s) resumed",
            hubUrl, hello.Name, hello.AgentId, device.Info.Kind, device.Info.Name, welcome.ResumedLeases.Count);
    }

    private async Task DeliverOutboxAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in outbox.Pending)
        {
            var ack = entry.Result is not null
                ? await _connection!.InvokeAsync<ResultAck>(nameof(IAgentHub.ReportResultAsync), entry.Result, cancellationToken)
                : await _connection!.InvokeAsync<ResultAck>(nameof(IAgentHub.ReportFailureAsync), entry.Failure, cancellationToken);
            if (ack != ResultAck.Accepted)
            {
                logger.LogInformation("The portal answered {Ack} for lease {LeaseId}", ack, entry.LeaseId);
            }

            outbox.Remove(entry.LeaseId);
        }
    }

    private void OnAssigned(WorkAssignment assignment)
    {
        if (queue.Enqueue(assignment))
        {
            logger.LogInformation("Assigned unit {Index} of job {JobId} (lease {LeaseId})", assignment.UnitIndex, assignment.JobId, assignment.LeaseId);
        }
    }

    private async Task WaitForWakeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout);
        try
        {
            await _wake.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The heartbeat is due.
        }
    }
}
