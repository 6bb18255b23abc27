using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cocoon.Web.Features.Blobs;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Tests.Blobs;

/// <summary>Resumable ciphertext uploads and range reads on the real portal, with every refusal.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class UploadApiTests(PostgresFixture postgres)
{
    [Fact]
    public async Task An_interrupted_upload_resumes_completes_and_reads_back_by_range()
    {
        var db = await postgres.CreateDatabaseAsync("uploads");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-uploads",
            new Dictionary<string, string> { ["Cocoon__Blobs__MaxPartBytes"] = "65536" });
        var http = portal.Http;
        var bytes = RandomNumberGenerator.GetBytes(200_000);

        var created = await http.PostAsJsonAsync("api/uploads", new { length = bytes.Length });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var upload = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        // Two parts arrive, then the connection "drops"; the client asks where to resume.
        await PutAsync(http, upload, 0, bytes[..65536], HttpStatusCode.OK);
        await PutAsync(http, upload, 65536, bytes[65536..100000], HttpStatusCode.OK);
        var status = await http.GetFromJsonAsync<JsonElement>($"api/uploads/{upload}");
        Assert.Equal(100000, status.GetProperty("received").GetInt64());

        // A part sent to the wrong offset is refused with where the upload really is.
        var conflict = await PutAsync(http, upload, 0, bytes[..10], HttpStatusCode.Conflict);
        Assert.Equal(100000, conflict.GetProperty("offset").GetInt64());
        await PutAsync(http, upload, 100000, bytes[100000..165536], HttpStatusCode.OK);

        // Too big a part, and bytes past the declared end, are refused and nothing of them is kept.
        await PutAsync(http, upload, 165536, new byte[65537], HttpStatusCode.RequestEntityTooLarge);
        var pastEnd = await PutAsync(http, upload, 165536, new byte[40000], HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("past_end", pastEnd.GetProperty("code").GetString());
        Assert.Equal(165536, (await http.GetFromJsonAsync<JsonElement>($"api/uploads/{upload}")).GetProperty("received").GetInt64());

        var early = await http.PostAsJsonAsync($"api/uploads/{upload}/complete", new { sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) });
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        await PutAsync(http, upload, 165536, bytes[165536..], HttpStatusCode.OK);

        var complete = await http.PostAsJsonAsync($"api/uploads/{upload}/complete", new { sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) });
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        var blob = await complete.Content.ReadFromJsonAsync<JsonElement>();
        var blobId = blob.GetProperty("id").GetGuid();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), blob.GetProperty("digest").GetString());

        // Content-addressed on disk; no staged part left behind.
        var digest = blob.GetProperty("digest").GetString()!;
        Assert.True(File.Exists(Path.Combine(portal.BlobRoot, "objects", digest[..2], digest[2..])));
        Assert.Empty(Directory.GetFiles(Path.Combine(portal.BlobRoot, "uploads")));

        using var range = new HttpRequestMessage(HttpMethod.Get, $"api/blobs/{blobId}");
        range.Headers.Range = new RangeHeaderValue(70000, 70999);
        var partial = await http.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[70000..71000], await partial.Content.ReadAsByteArrayAsync());

        // Ciphertext is always a download, never something a browser renders.
        Assert.Equal("attachment", partial.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", partial.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(bytes, await http.GetByteArrayAsync($"api/blobs/{blobId}"));

        // Someone else sees nothing of it.
        var stranger = await portal.SignInAsync(new TestWallet());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"api/blobs/{blobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"api/uploads/{upload}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"api/blobs/{blobId}")).StatusCode);
        Assert.False(File.Exists(Path.Combine(portal.BlobRoot, "objects", digest[..2], digest[2..])));
    }

    [Fact]
    public async Task Oversize_over_quota_and_a_wrong_digest_are_refused_and_nothing_is_half_stored()
    {
        var db = await postgres.CreateDatabaseAsync("uploads_refused");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-uploads-refused", new Dictionary<string, string>
        {
            ["Cocoon__Blobs__MaxObjectBytes"] = "100000",
            ["Cocoon__Blobs__QuotaBytesPerAccount"] = "150000",
        });
        var http = portal.Http;

        var oversize = await http.PostAsJsonAsync("api/uploads", new { length = 100001 });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversize.StatusCode);
        Assert.Equal("too_large", (await oversize.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("api/uploads", new { length = 0 })).StatusCode);

        var first = (await (await http.PostAsJsonAsync("api/uploads", new { length = 90000 })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var overQuota = await http.PostAsJsonAsync("api/uploads", new { length = 70000 });
        Assert.Equal(HttpStatusCode.Forbidden, overQuota.StatusCode);
        Assert.Equal("over_quota", (await overQuota.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        var bytes = RandomNumberGenerator.GetBytes(90000);
        await PutAsync(http, first, 0, bytes, HttpStatusCode.OK);
        var wrong = await http.PostAsJsonAsync($"api/uploads/{first}/complete", new { sha256 = new string('0', 64) });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
        Assert.Equal("digest_mismatch", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"api/uploads/{first}")).StatusCode);
        Assert.Empty(Directory.GetFiles(Path.Combine(portal.BlobRoot, "uploads")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(portal.BlobRoot, "objects")));
        Assert.Empty((await http.GetFromJsonAsync<JsonElement>("api/blobs")).EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync($"api/uploads/{Guid.NewGuid()}/complete", new { sha256 = "xyz" })).StatusCode);

        // The freed quota is usable again.
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("api/uploads", new { length = 100000 })).StatusCode);

        // Twenty uploads started at once cannot together pass the quota: 50,000 bytes are left, so five of 10,000 fit.
        var racing = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => http.PostAsJsonAsync("api/uploads", new { length = 10000 })));
        Assert.Equal(5, racing.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(15, racing.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task Abandoned_uploads_are_cleaned_up_by_the_recurring_job()
    {
        var db = await postgres.CreateDatabaseAsync("uploads_cleanup");
        await using var ledger = PortalDb.Open(db);
        await ledger.Database.MigrateAsync();
        var root = Directory.CreateTempSubdirectory("cocoon-blobs-").FullName;
        var store = new FileSystemBlobStore(Microsoft.Extensions.Options.Options.Create(new BlobOptions { Root = root }));
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var stale = new Upload { Id = Guid.NewGuid(), AccountId = Guid.NewGuid(), Length = 10, CreatedAt = clock.GetUtcNow().AddDays(-2), ExpiresAt = clock.GetUtcNow().AddHours(-1) };
        var fresh = new Upload { Id = Guid.NewGuid(), AccountId = stale.AccountId, Length = 10, CreatedAt = clock.GetUtcNow(), ExpiresAt = clock.GetUtcNow().AddHours(23) };
        ledger.AddRange(stale, fresh);
        await ledger.SaveChangesAsync();
        await store.AppendAsync(stale.Id, new MemoryStream(new byte[5]), 10, CancellationToken.None);
        await store.AppendAsync(fresh.Id, new MemoryStream(new byte[5]), 10, CancellationToken.None);

        var cleanup = new UploadCleanup(ledger, store, clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<UploadCleanup>.Instance);
        Assert.Equal(1, await cleanup.RunAsync(CancellationToken.None));
        Assert.Equal(0, await cleanup.RunAsync(CancellationToken.None));
        Assert.Equal(0, await store.StagedLengthAsync(stale.Id, CancellationToken.None));
        Assert.Equal(5, await store.StagedLengthAsync(fresh.Id, CancellationToken.None));
        Assert.Equal([fresh.Id], await ledger.Set<Upload>().Select(u => u.Id).ToListAsync());
        Directory.Delete(root, recursive: true);
    }

    private static async Task<JsonElement> PutAsync(HttpClient http, Guid upload, long offset, byte[] bytes, HttpStatusCode expected)
    {
        var response = await http.PutAsync($"api/uploads/{upload}?offset={offset}", new ByteArrayContent(bytes) { Headers = { ContentType = new("application/octet-stream") } });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == expected, $"PUT at {offset}: {response.StatusCode} {body}");
        return body;
    }
}
