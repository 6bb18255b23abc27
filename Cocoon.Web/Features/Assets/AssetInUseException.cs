namespace Cocoon.Web.Features.Assets;

/// <summary>A model or dataset that an unfinished job still needs; nothing was deleted.</summary>
public sealed class AssetInUseException(string message) : Exception(message);
