using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Blobs;

/// <summary>
/// Resumable uploads of ciphertext: create with a declared length (checked against the object limit
/// and the account's quota), append bytes at the current offset, complete with the client's digest.
/// Nothing is stored as a blob until every byte is there and the digest matches.
/// </summary>
public sealed class Uploads(CocoonDbContext db, IBlobStore store, IOptions<BlobOptions> options, TimeProvider clock)
{
    public async Task<UploadView> CreateAsync(Guid accountId, long length, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (length < 1)
        {
            throw new UploadRefusedException(StatusCodes.Status400BadRequest, "bad_length", "length must be the number of bytes to upload, at least 1.");
        }

        if (length > settings.MaxObjectBytes)
        {
            throw new UploadRefusedException(StatusCodes.Status413PayloadTooLarge, "too_large",
                $"This portal stores objects of at most {settings.MaxObjectBytes:N0} bytes; this one has {length:N0}.");
        }

        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await StorageQuota.LockAsync(db, accountId, cancellationToken);
        var used = await StorageQuota.UsedAsync(db, accountId, now, cancellationToken);
        if (used + length > settings.QuotaBytesPerAccount)
        {
            throw new UploadRefusedException(StatusCodes.Status403Forbidden, "over_quota",
                $"This upload would take your storage to {used + length:N0} bytes; your quota is {settings.QuotaBytesPerAccount:N0}. Delete models or datasets you no longer need.");
        }

        var upload = new Upload { Id = Guid.NewGuid(), AccountId = accountId, Length = length, CreatedAt = now, ExpiresAt = now.AddHours(settings.UploadExpiryHours) };
        db.Add(upload);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return View(upload);
    }

    public async Task<UploadView> StatusAsync(Guid accountId, Guid uploadId, CancellationToken cancellationToken)
    {
        var upload = await FindAsync(accountId, uploadId, cancellationToken);
        upload.Received = upload.CompletedAt is null ? await store.StagedLengthAsync(uploadId, cancellationToken) : upload.Length;
        return View(upload);
    }

    public async Task<UploadView> AppendAsync(Guid accountId, Guid uploadId, long offset, Stream data, CancellationToken cancellationToken)
    {
        var upload = await OpenAsync(accountId, uploadId, cancellationToken);
        var staged = await store.StagedLengthAsync(uploadId, cancellationToken);
        if (offset != staged)
        {
            throw new UploadRefusedException(StatusCodes.Status409Conflict, "offset_mismatch",
                $"The upload is at byte {staged:N0}, not {offset:N0}: resume from {staged}.", staged);
        }

        try
        {
            upload.Received = await store.AppendAsync(uploadId, data, upload.Length - staged, cancellationToken);
        }
        catch (UploadTooLargeException)
        {
            throw new UploadRefusedException(StatusCodes.Status413PayloadTooLarge, "past_end",
                $"The upload declared {upload.Length:N0} bytes; these bytes go past the end. Nothing of this part was kept.", staged);
        }
        catch (IOException)
        {
            throw new UploadRefusedException(StatusCodes.Status409Conflict, "busy", "Another request is writing this upload; retry when it is done.", staged);
        }

        await db.SaveChangesAsync(cancellationToken);
        return View(upload);
    }

    public async Task<BlobView> CompleteAsync(Guid accountId, Guid uploadId, string? sha256, CancellationToken cancellationToken)
    {
        if (sha256 is null || sha256.Length != 64 || !sha256.All(Uri.IsHexDigit))
        {
            throw new UploadRefusedException(StatusCodes.Status400BadRequest, "bad_digest", "sha256 must be the ciphertext's SHA-256 as 64 hex digits.");
        }

        var upload = await OpenAsync(accountId, uploadId, cancellationToken);
        var staged = await store.StagedLengthAsync(uploadId, cancellationToken);
        if (staged != upload.Length)
        {
            throw new UploadRefusedException(StatusCodes.Status409Conflict, "incomplete",
                $"{staged:N0} of {upload.Length:N0} bytes have arrived; send the rest from byte {staged} first.", staged);
        }

        try
        {
            await store.CommitAsync(uploadId, sha256.ToLowerInvariant(), cancellationToken);
        }
        catch (DigestMismatchException ex)
        {
            db.Remove(upload);
            await db.SaveChangesAsync(cancellationToken);
            throw new UploadRefusedException(StatusCodes.Status422UnprocessableEntity, "digest_mismatch", ex.Message);
        }

        var blob = new StoredBlob { Id = Guid.NewGuid(), AccountId = accountId, Digest = sha256.ToLowerInvariant(), Length = upload.Length, CreatedAt = clock.GetUtcNow() };
        db.Add(blob);
        upload.CompletedAt = blob.CreatedAt;
        upload.Received = upload.Length;
        upload.BlobId = blob.Id;
        await db.SaveChangesAsync(cancellationToken);
        return new BlobView(blob.Id, blob.Digest, blob.Length, blob.CreatedAt);
    }

    public async Task CancelAsync(Guid accountId, Guid uploadId, CancellationToken cancellationToken)
    {
        var upload = await OpenAsync(accountId, uploadId, cancellationToken);
        await store.DiscardUploadAsync(uploadId, cancellationToken);
        db.Remove(upload);
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task<Upload> OpenAsync(Guid accountId, Guid uploadId, CancellationToken cancellationToken)
    {
        var upload = await FindAsync(accountId, uploadId, cancellationToken);
        if (upload.CompletedAt is not null)
        {
            throw new UploadRefusedException(StatusCodes.Status409Conflict, "completed", "This upload is already complete.");
        }

        if (upload.ExpiresAt <= clock.GetUtcNow())
        {
            throw new UploadRefusedException(StatusCodes.Status410Gone, "expired", "This upload expired; start a new one.");
        }

        return upload;
    }

    private async Task<Upload> FindAsync(Guid accountId, Guid uploadId, CancellationToken cancellationToken) =>
        await db.Set<Upload>().SingleOrDefaultAsync(u => u.Id == uploadId && u.AccountId == accountId, cancellationToken)
            ?? throw new UploadRefusedException(StatusCodes.Status404NotFound, "not_found", $"You have no upload {uploadId}.");

    private static UploadView View(Upload upload) =>
        new(upload.Id, upload.Length, upload.Received, upload.CompletedAt is not null, upload.BlobId, upload.ExpiresAt);
}
