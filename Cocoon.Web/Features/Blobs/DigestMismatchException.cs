namespace Cocoon.Web.Features.Blobs;

public sealed class DigestMismatchException(string expected, string actual)
    : Exception($"The uploaded bytes hash to {actual}, not the {expected} the client computed: they were damaged on the way. The upload was discarded; upload the file again.");
