using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cocoon.Shared.Sealing;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Assets;

/// <summary>Models and datasets over sealed blobs, and the developer's registered encryption key, on the real portal.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AssetApiTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_sealed_upload_becomes_a_model_and_a_dataset_and_goes_when_deleted()
    {
        var db = await postgres.CreateDatabaseAsync("assets");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-assets");
        using var wallet = new TestWallet();
        var http = await portal.SignInAsync(wallet);
        using var developer = new SealedDeveloper(http);
        var developerKey = developer.Key;

        // The developer registers the key outputs will be sealed to; junk is refused.
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PutAsJsonAsync("api/account/encryption-key", new { publicKey = "04" + new string('1', 128) })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PutAsJsonAsync("api/account/encryption-key", new { publicKey = "zz" })).StatusCode);
        var publicKey = Convert.ToHexStringLower(Hpke.PublicKeyBytes(developerKey));
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsJsonAsync("api/account/encryption-key", new { publicKey })).StatusCode);
        Assert.Equal(publicKey, (await http.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("encryptionPublicKey").GetString());

        var modelBlob = await developer.UploadSealedAsync(RandomNumberGenerator.GetBytes(5000), "model");
        var datasetBlob = await developer.UploadSealedAsync(RandomNumberGenerator.GetBytes(9000), "dataset");

        var bad = await http.PostAsJsonAsync("api/datasets", new { name = "", blobId = Guid.NewGuid() });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _) && errors.TryGetProperty("rows", out _) && errors.TryGetProperty("blobId", out _), errors.ToString());

        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("api/models", new { name = "resnet", version = "1.0", blobId = modelBlob, outputElementsPerRow = 0 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("api/datasets", new { name = "images", blobId = datasetBlob, rows = 128, outputElementsPerRow = 10 })).StatusCode);
        var model = await (await http.PostAsJsonAsync("api/models", new { name = "resnet", version = "1.0", blobId = modelBlob, outputElementsPerRow = 1000 })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("onnx", model.GetProperty("format").GetString());
        Assert.Equal(1000, model.GetProperty("outputElementsPerRow").GetInt64());
        var duplicate = await http.PostAsJsonAsync("api/models", new { name = "resnet", version = "1.0", blobId = modelBlob });
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        var dataset = await http.PostAsJsonAsync("api/datasets", new { name = "images", blobId = datasetBlob, rows = 128 });
        Assert.Equal(HttpStatusCode.Created, dataset.StatusCode);
        var datasetView = await dataset.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(128, datasetView.GetProperty("rows").GetInt64());
        Assert.Equal("safetensors", datasetView.GetProperty("format").GetString());
        Assert.Single((await http.GetFromJsonAsync<JsonElement>("api/models")).EnumerateArray());
        Assert.Single((await http.GetFromJsonAsync<JsonElement>("api/datasets")).EnumerateArray());

        // Someone else sees none of it; the blob cannot be deleted from under the model.
        var stranger = await portal.SignInAsync(new TestWallet());
        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("api/models")).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"api/models/{model.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.DeleteAsync($"api/blobs/{modelBlob}")).StatusCode);

        // Deleting the model removes its blob and the stored ciphertext.
        var digest = model.GetProperty("digest").GetString()!;
        Assert.True(File.Exists(Path.Combine(portal.BlobRoot, "objects", digest[..2], digest[2..])));
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"api/models/{model.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.False(File.Exists(Path.Combine(portal.BlobRoot, "objects", digest[..2], digest[2..])));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"api/blobs/{modelBlob}")).StatusCode);

        // What the portal stored is ciphertext that opens only with the developer's key.
        var sealedDataset = await http.GetByteArrayAsync($"api/blobs/{datasetBlob}");
        var opened = new MemoryStream();
        await SealedEnvelope.OpenAsync(new MemoryStream(sealedDataset), opened, developerKey);
        Assert.Equal(9000, opened.Length);

        // Ciphertext lost from the store (a moved root, a bad restore) is a clear problem, not a stack trace.
        var datasetDigest = datasetView.GetProperty("digest").GetString()!;
        File.Delete(Path.Combine(portal.BlobRoot, "objects", datasetDigest[..2], datasetDigest[2..]));
        var missing = await http.GetAsync($"api/blobs/{datasetBlob}");
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("missing from the blob store", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
