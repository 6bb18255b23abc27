namespace Cocoon.Web.Features.Jobs;

/// <summary>The Hangfire step that leases units to agents. Safe to run twice: a unit no longer pending is left alone.</summary>
public sealed class DispatchUnitJob(Dispatcher dispatcher)
{
    public Task RunAsync(Guid unitId, CancellationToken cancellationToken) => dispatcher.DispatchAsync(unitId, cancellationToken);

    /// <summary>
    /// Several units in one step, one after another (a Hangfire job costs more than a dispatch). One
    /// unit's failure does not stop the others; the step then fails, so Hangfire retries it (each
    /// unit dispatched already is left alone).
    /// </summary>
    public async Task RunManyAsync(Guid[] unitIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unitIds);
        List<Exception> failures = [];
        foreach (var unitId in unitIds)
        {
            try
            {
                await dispatcher.DispatchAsync(unitId, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.Add(ex);
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException($"{failures.Count} of {unitIds.Length} units could not be dispatched.", failures);
        }
    }
}
