using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Threading.Channels;
using Cocoon.Agent.Connection;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Sealing;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.ModelRuns;
using Microsoft.AspNetCore.SignalR.Client;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>
/// A paired agent with no engine behind it, a raw SignalR client holding a real pairing's token: it
/// registers with development evidence and the capacity given, heartbeats for the leases it holds, and
/// reports whatever the test tells it to (honest, wrong or no results, failures).
/// </summary>
public sealed class ScriptedAgent : IAsyncDisposable
{
    private readonly Channel<WorkAssignment> _assignments = Channel.CreateUnbounded<WorkAssignment>();
    private readonly CancellationTokenSource _stop = new();
    private HubConnection _hub = null!;
    private HttpClient _http = null!;
    private Task _heartbeats = Task.CompletedTask;
    private readonly HashSet<Guid> _held = [];
    private ECDsa _pairingKey = null!;

    /// <summary>The agent's id at the portal.</summary>
    public Guid Id { get; private set; }

    /// <param name="heartbeat">How often it heartbeats: 500 ms by default (tests wait on the portal noticing); a real agent's 5 s for a simulated fleet.</param>
    public static async Task<ScriptedAgent> StartAsync(PortalProcess portal, string name = "scripted", int capacity = 1, DeviceKind device = DeviceKind.Cpu, double? benchmark = null, long memoryBytes = 16L << 30, TimeSpan? heartbeat = null)
    {
        var (credentials, directory) = await TestAgents.PairAsync(portal, name);
        var agent = new ScriptedAgent
        {
            _portal = portal,
            _credentials = credentials,
            _directory = directory,
            _hello = TestAgents.Hello(credentials.AgentId, name) with
            {
                Capacity = capacity,
                Device = new DeviceInfo { Name = device.ToString().ToLowerInvariant(), Kind = device, MemoryBytes = memoryBytes, ComputeUnits = 1, MaxThreadsPerGroup = 1 },
            },
            _pairingKey = PairedCredentials.LoadKey(directory),
            _heartbeat = heartbeat ?? TimeSpan.FromMilliseconds(500),
            Id = credentials.AgentId,
        };
        await agent.ConnectAsync();
        if (benchmark is { } score)
        {
            await agent._hub.InvokeAsync(nameof(IAgentHub.ReportBenchmarkAsync), new AgentBenchmark { Score = score, Device = device.ToString() });
        }

        agent._http = portal.NewClient();
        agent._http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TestAgents.AccessTokenAsync(portal, credentials, directory));
        return agent;
    }

    private PortalProcess _portal = null!;
    private Shared.Pairing.AgentCredentials _credentials = null!;
    private string _directory = null!;
    private AgentHello _hello = null!;
    private CancellationTokenSource _connection = new();
    private TimeSpan _heartbeat;

    /// <summary>Opens a hub connection, answers the attestation challenge with a fresh enclave key, registers and starts heartbeating.</summary>
    private async Task ConnectAsync()
    {
        _hub = await TestAgents.ConnectHubAsync(_portal, _credentials, _directory);
        _hub.On<WorkAssignment>(nameof(IAgentClient.AssignAsync), a =>
        {
            lock (_held)
            {
                _held.Add(a.LeaseId);
            }

            _assignments.Writer.TryWrite(a);
        });
        _hub.On<Guid>(nameof(IAgentClient.CancelAsync), _ => { });
        using var enclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var nonce = (await _hub.InvokeAsync<AttestationChallenge>(nameof(IAgentHub.ChallengeAsync))).Nonce;
        var evidence = DevelopmentEvidence.Create(_pairingKey, _credentials.AgentId, Hpke.PublicKeyBytes(enclave), nonce, DateTimeOffset.UtcNow);
        await _hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.RegisterAsync), _hello with { Enclave = evidence });
        _connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        _heartbeats = HeartbeatAsync(_connection.Token);
    }

    /// <summary>Drops the connection without a word (a crash or a lost network): the leases it holds are the portal's to end.</summary>
    public async Task DisconnectAsync()
    {
        await _connection.CancelAsync();
        await _heartbeats;
        await _hub.DisposeAsync();
        lock (_held)
        {
            _held.Clear();
        }

        while (_assignments.Reader.TryRead(out _))
        {
        }
    }

    /// <summary>Connects again as the same agent (same pairing, a new enclave key), as a restarted agent does.</summary>
    public async Task ReconnectAsync()
    {
        await DisconnectAsync();
        await ConnectAsync();
    }

    public async Task<WorkAssignment> NextAssignmentAsync()
    {
        // Generous: a CI run once waited more than 30 s for a re-dispatch here (not yet explained; see the issue notes).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        return await _assignments.Reader.ReadAsync(timeout.Token);
    }

    public Task<HttpResponseMessage> UploadAsync(Guid leaseId, byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        var request = new HttpRequestMessage(HttpMethod.Put, $"api/agent/leases/{leaseId}/output") { Content = content };
        request.Headers.Add(ModelRunsEndpoints.DigestHeader, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        return _http.SendAsync(request);
    }

    public async Task<ResultAck> ReportAsync(Guid leaseId, Guid outputBlobId, string digest)
    {
        var ack = await _hub.InvokeAsync<ResultAck>(nameof(IAgentHub.ReportResultAsync), new UnitResult
        {
            LeaseId = leaseId,
            OutputBlobId = outputBlobId,
            OutputDigest = digest,
            Verified = true,
            Flops = 1,
            DeviceMilliseconds = 1,
            Gflops = 1,
            DeviceName = "cpu",
        });
        lock (_held)
        {
            _held.Remove(leaseId);
        }

        return ack;
    }

    /// <summary>Reports a matrix unit done honestly: the digest of its products (the reference computes them) and its FLOPs.</summary>
    public Task<ResultAck> CompleteAsync(WorkAssignment assignment) =>
        ReportMatrixAsync(assignment, MatMulReference.OutputDigest(assignment?.Work ?? throw new InvalidOperationException("CompleteAsync reports matrix units.")));

    /// <summary>Reports a matrix unit done with a made-up digest: the lie a canary is there to catch.</summary>
    public Task<ResultAck> LieAsync(WorkAssignment assignment) =>
        ReportMatrixAsync(assignment, Convert.ToHexStringLower(SHA256.HashData(assignment.UnitId.ToByteArray())));

    private async Task<ResultAck> ReportMatrixAsync(WorkAssignment assignment, string digest)
    {
        var spec = assignment.Work!;
        var ack = await _hub.InvokeAsync<ResultAck>(nameof(IAgentHub.ReportResultAsync), new UnitResult
        {
            LeaseId = assignment.LeaseId,
            OutputDigest = digest,
            Verified = true,
            Flops = 2L * spec.MatrixSize * spec.MatrixSize * spec.MatrixSize * spec.MatrixCount,
            DeviceMilliseconds = 1,
            Gflops = 1,
            DeviceName = "cpu",
        });
        lock (_held)
        {
            _held.Remove(assignment.LeaseId);
        }

        return ack;
    }

    /// <summary>
    /// Reports a model unit done without running it: random bytes uploaded as its sealed output, a
    /// made-up plaintext digest signed with its real pairing key, and the FLOPs the job expects (so only
    /// comparing outputs across agents can catch it).
    /// </summary>
    public Task<ResultAck> LieAboutModelUnitAsync(WorkAssignment assignment, long flopsPerRow)
    {
        var plainDigest = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        return ReportModelUnitAsync(assignment, flopsPerRow, plainDigest, SignOutput(assignment.LeaseId, plainDigest));
    }

    /// <summary>Signs an output digest for a lease with this agent's pairing key, as a real agent does.</summary>
    public string SignOutput(Guid leaseId, string plainDigest) => OutputStatement.SignHex(_pairingKey, leaseId, plainDigest);

    /// <summary>Uploads random bytes as the unit's sealed output and reports it with the digest and signature given (either may be missing or wrong).</summary>
    public async Task<ResultAck> ReportModelUnitAsync(WorkAssignment assignment, long flopsPerRow, string? plainDigest, string? signature)
    {
        var spec = assignment?.ModelRun ?? throw new InvalidOperationException("ReportModelUnitAsync reports model units.");
        var upload = await UploadAsync(assignment.LeaseId, RandomNumberGenerator.GetBytes(512));
        upload.EnsureSuccessStatusCode();
        var stored = await upload.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var ack = await _hub.InvokeAsync<ResultAck>(nameof(IAgentHub.ReportResultAsync), new UnitResult
        {
            LeaseId = assignment.LeaseId,
            OutputBlobId = stored.GetProperty("blobId").GetGuid(),
            OutputDigest = stored.GetProperty("digest").GetString()!,
            Verified = true,
            Flops = (spec.FlopsPerRow ?? flopsPerRow) * spec.RowCount,
            DeviceMilliseconds = 1,
            Gflops = 1,
            DeviceName = "cpu",
            PlainDigest = plainDigest,
            PlainDigestSignature = signature,
        });
        lock (_held)
        {
            _held.Remove(assignment.LeaseId);
        }

        return ack;
    }

    /// <summary>Whichever of <paramref name="agents"/> is given a unit first, and the unit (within a minute).</summary>
    public static async Task<(ScriptedAgent Agent, WorkAssignment Assignment)> FirstAssignmentAsync(params ScriptedAgent[] agents)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var agent in agents)
            {
                if (await agent.TryNextAssignmentAsync(TimeSpan.FromMilliseconds(100)) is { } assignment)
                {
                    return (agent, assignment);
                }
            }
        }

        throw new TimeoutException("No agent was given the unit.");
    }

    /// <summary>The next assignment if one comes within <paramref name="wait"/>; null otherwise.</summary>
    public async Task<WorkAssignment?> TryNextAssignmentAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await _assignments.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public Task<ResultAck> FailAsync(Guid leaseId, string reason, bool modelError = false)
    {
        lock (_held)
        {
            _held.Remove(leaseId);
        }

        return _hub.InvokeAsync<ResultAck>(nameof(IAgentHub.ReportFailureAsync), new UnitFailure { LeaseId = leaseId, Reason = reason, ModelError = modelError });
    }

    private async Task HeartbeatAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Guid[] held;
            lock (_held)
            {
                held = [.. _held];
            }

            try
            {
                await _hub.InvokeAsync(nameof(IAgentHub.HeartbeatAsync), new AgentHeartbeat { ActiveLeases = held }, stop);
                await Task.Delay(_heartbeat, stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException || stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (_hub.State != HubConnectionState.Connected)
            {
                // The portal went away (killed or restarting): heartbeats go on once the connection is back.
                try
                {
                    await Task.Delay(_heartbeat, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _heartbeats;
        await _hub.DisposeAsync();
        _http.Dispose();
        _pairingKey.Dispose();
        _stop.Dispose();
    }
}
