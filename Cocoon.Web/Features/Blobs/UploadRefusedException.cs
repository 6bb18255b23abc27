namespace Cocoon.Web.Features.Blobs;

/// <summary>An upload request that cannot be honoured: <see cref="Code"/> and <see cref="Status"/> say how, the message what to do.</summary>
public sealed class UploadRefusedException(int status, string code, string message, long? offset = null) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    /// <summary>For an offset conflict, where the upload really is (resume from there).</summary>
    public long? Offset { get; } = offset;
}
