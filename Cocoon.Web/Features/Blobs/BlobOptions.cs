using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.Blobs;

/// <summary>Where ciphertext is kept and how much of it (section "Cocoon:Blobs").</summary>
public sealed class BlobOptions
{
    public const string Section = "Cocoon:Blobs";

    /// <summary>Root folder of the filesystem store. Default: beside the embedded database (…/cocoon/blobs).</summary>
    public string? Root { get; set; }

    [Range(1, long.MaxValue, ErrorMessage = "Cocoon:Blobs:MaxObjectBytes must be positive.")]
    public long MaxObjectBytes { get; set; } = 20L << 30;

    [Range(1, long.MaxValue, ErrorMessage = "Cocoon:Blobs:QuotaBytesPerAccount must be positive.")]
    public long QuotaBytesPerAccount { get; set; } = 100L << 30;

    /// <summary>Largest body of one PUT of upload bytes.</summary>
    [Range(1024, 256 << 20, ErrorMessage = "Cocoon:Blobs:MaxPartBytes must be between 1 KiB and 256 MiB.")]
    public int MaxPartBytes { get; set; } = 16 << 20;

    /// <summary>An upload not completed within this many hours is removed by the cleanup job.</summary>
    [Range(1, 24 * 30, ErrorMessage = "Cocoon:Blobs:UploadExpiryHours must be between 1 and 720.")]
    public int UploadExpiryHours { get; set; } = 24;

    public string ResolveRoot() =>
        !string.IsNullOrWhiteSpace(Root)
            ? Path.GetFullPath(Root)
            : Environment.IsPrivilegedProcess
                ? "/var/lib/cocoon/blobs"
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cocoon", "blobs");
}
