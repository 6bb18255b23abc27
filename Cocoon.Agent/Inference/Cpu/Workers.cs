using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Cocoon.Agent.Inference.Cpu;

/// <summary>
/// The CPU kernels' own thread pool: one worker per extra core, which spins for a short while after
/// each piece of work before it sleeps. Handing a product's halves to <see cref="Parallel.For(int, int, Action{int})"/>
/// cost 5–10 µs here, as long as a 64×64×64 product takes on one core, so products below a few million
/// multiply-adds ran on one core; a spinning worker picks up work in well under a microsecond. The
/// spinning stops <see cref="SpinTime"/> after the last piece of work, so an idle agent uses no CPU.
/// </summary>
internal static class Workers
{
    /// <summary>How long a worker keeps spinning for the next piece of work before it sleeps.</summary>
    public static readonly TimeSpan SpinTime = TimeSpan.FromMilliseconds(2);

    private static readonly object Gate = new();
    private static readonly long SpinTicks = (long)(SpinTime.TotalSeconds * Stopwatch.Frequency);
    private static Job? _job;
    private static long _generation;
    private static int _sleepers;
    private static int _busy;
    private static int _started;

    /// <summary>Threads that run pieces: the calling thread and the workers.</summary>
    public static int Count => Environment.ProcessorCount;

    /// <summary>
    /// Runs <paramref name="body"/>(i) for every i in [0, <paramref name="count"/>) on the calling thread
    /// and the workers, and returns when all have finished; the first exception is rethrown. A call made
    /// while the workers are busy (from inside a body, or from another model run) goes to the .NET pool.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 1 || Count == 1)
        {
            for (var i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        var job = new Job(body, count);
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            // The same job on the .NET pool: every piece runs, and the first failure is rethrown as
            // itself (Parallel.For over the pieces would stop early and wrap it).
            Parallel.For(0, Math.Min(count, Count), _ => job.Run());
            job.Error?.Throw();
            return;
        }

        try
        {
            Start();
            Volatile.Write(ref _job, job);
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (Gate)
                {
                    Monitor.PulseAll(Gate);
                }
            }

            job.Run();
            var spinner = default(SpinWait);
            while (Volatile.Read(ref job.Done) < count)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
        finally
        {
            Volatile.Write(ref _job, null);
            Volatile.Write(ref _busy, 0);
        }

        job.Error?.Throw();
    }

    private static void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        for (var w = 1; w < Count; w++)
        {
            new Thread(Work) { IsBackground = true, Name = $"cocoon-kernels-{w}" }.Start();
        }
    }

    private static void Work()
    {
        var seen = Volatile.Read(ref _generation);
        while (true)
        {
            var since = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen && Stopwatch.GetTimestamp() - since < SpinTicks)
            {
                Thread.SpinWait(1);
            }

            if (Volatile.Read(ref _generation) == seen)
            {
                lock (Gate)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _generation) == seen)
                    {
                        Monitor.Wait(Gate);
                    }

                    Interlocked.Decrement(ref _sleepers);
                }
            }

            seen = Volatile.Read(ref _generation);

            // A job already finished (or replaced) is harmless: its pieces are all taken.
            Volatile.Read(ref _job)?.Run();
        }
    }

    private sealed class Job(Action<int> body, int count)
    {
        public int Done;
        private int _next;

        public ExceptionDispatchInfo? Error { get; private set; }

        /// <summary>Takes pieces until none are left.</summary>
        public void Run()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < count)
            {
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    lock (this)
                    {
                        Error ??= ExceptionDispatchInfo.Capture(e);
                    }
                }

                Interlocked.Increment(ref Done);
            }
        }
    }
}
