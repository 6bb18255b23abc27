namespace Cocoon.Web.Features.Jobs;

/// <summary>The Hangfire step that leases units to agents. Safe to run twice: a unit no longer pending is left alone.</summary>
public sealed class DispatchUnitJob(Dispatcher dispatcher)
{
    public Task RunAsync(Guid unitId, CancellationToken cancellationToken) => dispatcher.DispatchAsync(unitId, cancellationToken);

    /// <summary>Several units in one step, one after another (a Hangfire job costs more than a dispatch).</summary>
    public async Task RunManyAsync(Guid[] unitIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unitIds);
        foreach (var unitId in unitIds)
        {
            await dispatcher.DispatchAsync(unitId, cancellationToken);
        }
    }
}
