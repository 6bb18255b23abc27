namespace Cocoon.Web.Features.Jobs;

/// <summary>A job request out of range: field name → what to fix ("" for rules across fields).</summary>
public sealed class InvalidJobException(IReadOnlyDictionary<string, string[]> errors)
    : Exception(string.Join(" ", errors.Values.SelectMany(e => e)))
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}
