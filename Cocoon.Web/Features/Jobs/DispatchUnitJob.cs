namespace Cocoon.Web.Features.Jobs;

/// <summary>The Hangfire step that leases one unit to an agent. Safe to run twice: a unit no longer pending is left alone.</summary>
public sealed class DispatchUnitJob(Dispatcher dispatcher)
{
    public Task RunAsync(Guid unitId, CancellationToken cancellationToken) => dispatcher.DispatchAsync(unitId, cancellationToken);
}
