namespace Cocoon.Web.Features.Blobs;

/// <summary>The database names a blob whose ciphertext is not in the store (lost, or the store's root moved).</summary>
public sealed class BlobMissingException(string digest)
    : Exception($"The stored ciphertext {digest[..12]}… is missing from the blob store; an operator must restore it (or point Cocoon:Blobs:Root back at it).")
{
    public string Digest { get; } = digest;
}
