namespace Cocoon.Web.Features.Blobs;

public sealed class UploadTooLargeException() : Exception("The upload is longer than it declared.");
