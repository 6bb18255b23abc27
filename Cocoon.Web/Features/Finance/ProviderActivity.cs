namespace Cocoon.Web.Features.Finance;

/// <summary>What one provider's agents did in a period: the basis of their earnings.</summary>
public sealed record ProviderActivity(string Provider, int Agents, int UnitsSucceeded, double TeraFlops, DateTimeOffset? LastUnitAt);
