namespace Cocoon.Agent.Inference.Cpu;

/// <summary>Splits element-wise and row-wise work across cores once there is enough of it to pay for the hand-off.</summary>
internal static class Chunks
{
    /// <summary>
    /// Elements below which one core does the work: 16 K, a few microseconds of vectorised arithmetic,
    /// now that <see cref="Workers"/> hands work out in well under one (through Parallel.For it was 64 K).
    /// </summary>
    public const int Threshold = 1 << 14;

    /// <summary>
    /// Calls <paramref name="body"/>(start, count) over [0, <paramref name="length"/>) in pieces whose
    /// starts are multiples of <paramref name="unit"/> (a row width), one piece per core for large
    /// lengths, a single call otherwise, and none for nothing.
    /// </summary>
    public static void For(int length, int unit, Action<int, int> body)
    {
        if (length == 0)
        {
            return;
        }

        var cores = Environment.ProcessorCount;
        if (length < Threshold || cores == 1 || unit <= 0 || length <= unit)
        {
            body(0, length);
            return;
        }

        var units = (length + unit - 1) / unit;
        var per = (units + cores - 1) / cores * unit;
        Workers.For((length + per - 1) / per, piece =>
        {
            var start = piece * per;
            body(start, Math.Min(per, length - start));
        });
    }
}
