using Microsoft.AspNetCore.SignalR.Client;

namespace Cocoon.Agent.Connection;

/// <summary>Retries for ever: 0.5 s, 1 s, 2 s, … up to the configured ceiling, with jitter so a fleet does not stampede.</summary>
public sealed class BackoffRetryPolicy(TimeSpan ceiling) : IRetryPolicy
{
    public TimeSpan? NextRetryDelay(RetryContext retryContext) => Delay(retryContext.PreviousRetryCount, ceiling);

    public static TimeSpan Delay(long attempt, TimeSpan ceiling)
    {
        var seconds = Math.Min(ceiling.TotalSeconds, 0.5 * Math.Pow(2, Math.Min(attempt, 16)));
        return TimeSpan.FromSeconds(seconds * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }
}
