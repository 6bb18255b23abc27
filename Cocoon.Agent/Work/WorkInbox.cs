using System.Collections.Concurrent;
using System.Threading.Channels;
using Cocoon.Shared.Work;

namespace Cocoon.Agent.Work;

/// <summary>Assignments received from the portal and not yet finished, in arrival order.</summary>
public sealed class WorkInbox
{
    private readonly Channel<WorkAssignment> _channel = Channel.CreateUnbounded<WorkAssignment>(new() { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _active = new();

    /// <summary>Leases queued or running.</summary>
    public IReadOnlyList<Guid> ActiveLeases => [.. _active.Keys];

    /// <summary>Queues an assignment; a lease already held is ignored (the portal may resend after a reconnect).</summary>
    public bool Enqueue(WorkAssignment assignment)
    {
        if (!_active.TryAdd(assignment.LeaseId, new CancellationTokenSource()))
        {
            return false;
        }

        return _channel.Writer.TryWrite(assignment);
    }

    public void Cancel(Guid leaseId)
    {
        if (_active.TryGetValue(leaseId, out var cts))
        {
            cts.Cancel();
        }
    }

    public IAsyncEnumerable<WorkAssignment> ReadAllAsync(CancellationToken cancellationToken) =>
        _channel.Reader.ReadAllAsync(cancellationToken);

    public CancellationToken TokenFor(Guid leaseId) =>
        _active.TryGetValue(leaseId, out var cts) ? cts.Token : new CancellationToken(canceled: true);

    public void Complete(Guid leaseId)
    {
        if (_active.TryRemove(leaseId, out var cts))
        {
            cts.Dispose();
        }
    }
}
