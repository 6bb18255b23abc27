namespace Cocoon.Web.Features.Money;

/// <summary>Names of jobs for statements (Jobs provides it: Money knows jobs only by id).</summary>
public interface IJobNames
{
    Task<IReadOnlyDictionary<Guid, string>> NamesAsync(IReadOnlyCollection<Guid> jobIds, CancellationToken cancellationToken);
}
