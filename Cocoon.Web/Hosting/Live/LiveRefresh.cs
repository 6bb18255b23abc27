namespace Cocoon.Web.Hosting.Live;

/// <summary>
/// Coalesces change signals into at most one refresh per interval, so a page watching a busy job
/// re-reads the database a few times a second however many units report.
/// </summary>
public sealed class LiveRefresh : IDisposable
{
    private readonly LiveUpdates _updates;
    private readonly Func<LiveChange, bool> _filter;
    private readonly Func<Task> _refresh;
    private readonly PeriodicTimer _timer;
    private readonly CancellationTokenSource _stop = new();
    private int _dirty;

    public LiveRefresh(LiveUpdates updates, Func<LiveChange, bool> filter, Func<Task> refresh, TimeSpan interval)
    {
        _updates = updates;
        _filter = filter;
        _refresh = refresh;
        _timer = new PeriodicTimer(interval);
        _updates.Changed += OnChanged;
        _ = LoopAsync();
    }

    private void OnChanged(LiveChange change)
    {
        if (_filter(change))
        {
            Interlocked.Exchange(ref _dirty, 1);
        }
    }

    private async Task LoopAsync()
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(_stop.Token))
            {
                if (Interlocked.Exchange(ref _dirty, 0) == 1)
                {
                    await _refresh();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed with its page.
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away mid-refresh.
        }
    }

    public void Dispose()
    {
        _updates.Changed -= OnChanged;
        _stop.Cancel();
        _timer.Dispose();
        _stop.Dispose();
    }
}
