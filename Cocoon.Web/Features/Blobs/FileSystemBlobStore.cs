using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Blobs;

/// <summary>
/// Blobs as files: uploads/{id}.part while they arrive, objects/ab/cdef… (the SHA-256) once committed.
/// Writes stream straight to disk, so memory stays flat whatever the size.
/// </summary>
public sealed class FileSystemBlobStore : IBlobStore
{
    private readonly string _uploads;
    private readonly string _objects;

    public FileSystemBlobStore(IOptions<BlobOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var root = options.Value.ResolveRoot();
        _uploads = Path.Combine(root, "uploads");
        _objects = Path.Combine(root, "objects");
        Directory.CreateDirectory(_uploads);
        Directory.CreateDirectory(_objects);
    }

    public Task<long> StagedLengthAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PartPath(uploadId));
        return Task.FromResult(file.Exists ? file.Length : 0);
    }

    public async Task<long> AppendAsync(Guid uploadId, Stream data, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        await using var file = new FileStream(PartPath(uploadId), FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var start = file.Length;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await data.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (file.Length - start + read > maxBytes)
            {
                // Nothing past the declared end is kept: the part written by this request is taken back.
                file.SetLength(start);
                throw new UploadTooLargeException();
            }

            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        await file.FlushAsync(cancellationToken);
        return file.Length;
    }

    public async Task CommitAsync(Guid uploadId, string expectedDigest, CancellationToken cancellationToken)
    {
        var part = PartPath(uploadId);
        string digest;
        await using (var input = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
        {
            digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(input, cancellationToken));
        }

        if (!string.Equals(digest, expectedDigest, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(part);
            throw new DigestMismatchException(expectedDigest, digest);
        }

        var target = ObjectPath(digest);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (File.Exists(target))
        {
            File.Delete(part); // the same ciphertext is already stored
        }
        else
        {
            File.Move(part, target);
        }
    }

    public Task DiscardUploadAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        File.Delete(PartPath(uploadId));
        return Task.CompletedTask;
    }

    public Stream OpenRead(string digest, long offset)
    {
        var path = ObjectPath(digest);
        if (!File.Exists(path))
        {
            throw new BlobMissingException(digest);
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        stream.Position = offset;
        return stream;
    }

    public Task DeleteAsync(string digest, CancellationToken cancellationToken)
    {
        File.Delete(ObjectPath(digest));
        return Task.CompletedTask;
    }

    private string PartPath(Guid uploadId) => Path.Combine(_uploads, uploadId.ToString("N") + ".part");

    private string ObjectPath(string digest)
    {
        if (digest.Length != 64 || !digest.All(Uri.IsHexDigit))
        {
            throw new ArgumentException("A blob digest is 64 hex digits.", nameof(digest));
        }

        return Path.Combine(_objects, digest[..2], digest[2..]);
    }
}
