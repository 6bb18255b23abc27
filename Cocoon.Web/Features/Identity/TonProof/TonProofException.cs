namespace Cocoon.Web.Features.Identity.TonProof;

/// <summary>A refused proof: <see cref="Code"/> is machine-readable, the message is for a person, <see cref="Status"/> is 400 or 401.</summary>
public sealed class TonProofException(string code, string message, int status = StatusCodes.Status401Unauthorized) : Exception(message)
{
    public string Code { get; } = code;

    public int Status { get; } = status;

    public static TonProofException BadRequest(string code, string message) => new(code, message, StatusCodes.Status400BadRequest);
}
