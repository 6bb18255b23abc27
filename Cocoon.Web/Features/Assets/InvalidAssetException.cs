namespace Cocoon.Web.Features.Assets;

public sealed class InvalidAssetException(IDictionary<string, string[]> errors) : Exception("The model or dataset is invalid.")
{
    public IDictionary<string, string[]> Errors { get; } = errors;
}
