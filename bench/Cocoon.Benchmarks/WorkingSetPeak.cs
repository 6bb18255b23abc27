using System.Diagnostics;

namespace Cocoon.Benchmarks;

/// <summary>How far this process's working set rises above where it stood while some work runs, sampled every few milliseconds.</summary>
public static class WorkingSetPeak
{
    public static long Rise(Action work, int sampleMilliseconds = 2)
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var baseline = process.WorkingSet64;
        var peak = baseline;
        using (new Timer(_ =>
        {
            process.Refresh();
            Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), process.WorkingSet64));
        }, null, 0, sampleMilliseconds))
        {
            work();
            Thread.Sleep(20);
        }

        process.Refresh();
        return Math.Max(Interlocked.Read(ref peak), process.WorkingSet64) - baseline;
    }
}
