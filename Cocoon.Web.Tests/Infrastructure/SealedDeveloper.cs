using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Sealing;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>
/// What a developer's browser does, in C#: holds the developer key, seals and uploads files, wraps
/// file keys to agents' enclave keys at submission, and opens outputs. Used where a test is about
/// the portal and the agent rather than the page.
/// </summary>
public sealed class SealedDeveloper(HttpClient http, ECDiffieHellman? key = null) : IDisposable
{
    /// <summary>The developer's key (a new one unless the same developer continues in a new session).</summary>
    public ECDiffieHellman Key { get; } = key ?? ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    public HttpClient Http => http;

    public byte[] PublicKey => Hpke.PublicKeyBytes(Key);

    public async Task RegisterKeyAsync() =>
        (await http.PutAsJsonAsync("api/account/encryption-key", new { publicKey = Convert.ToHexStringLower(PublicKey) })).EnsureSuccessStatusCode();

    /// <summary>Seals <paramref name="plaintext"/> to the developer and uploads it; returns the blob id.</summary>
    public async Task<Guid> UploadSealedAsync(byte[] plaintext, string purpose, int chunkSize = 1024)
    {
        var sealedStream = new MemoryStream();
        await SealedEnvelope.SealAsync(new MemoryStream(plaintext), sealedStream, [PublicKey], purpose, Guid.NewGuid(), chunkSize);
        var bytes = sealedStream.ToArray();
        var upload = (await (await http.PostAsJsonAsync("api/uploads", new { length = bytes.Length })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        (await http.PutAsync($"api/uploads/{upload}?offset=0", new ByteArrayContent(bytes))).EnsureSuccessStatusCode();
        var blob = await (await http.PostAsJsonAsync($"api/uploads/{upload}/complete", new { sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) }))
            .Content.ReadFromJsonAsync<JsonElement>();
        return blob.GetProperty("id").GetGuid();
    }

    /// <summary>Uploads a model and a dataset and registers them (the model with the output elements per row the browser would read from it); returns their asset ids.</summary>
    public async Task<(Guid Model, Guid Dataset)> CreateAssetsAsync(byte[] onnx, byte[] safetensors, long rows, long? outputElementsPerRow = null)
    {
        var modelBlob = await UploadSealedAsync(onnx, "model");
        var datasetBlob = await UploadSealedAsync(safetensors, "dataset");
        var model = await (await http.PostAsJsonAsync("api/models", new { name = "mlp", version = "1", blobId = modelBlob, outputElementsPerRow })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        var dataset = await (await http.PostAsJsonAsync("api/datasets", new { name = "rows", version = "1", blobId = datasetBlob, rows })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        return (model.GetProperty("id").GetGuid(), dataset.GetProperty("id").GetGuid());
    }

    /// <summary>The agents the portal proposes, with their enclave keys.</summary>
    public async Task<IReadOnlyList<AgentView>> CandidatesAsync() =>
        (await http.GetFromJsonAsync<IReadOnlyList<AgentView>>("api/model-jobs/agents", PortalProcess.Json))!;

    /// <summary>The request the browser would send: the file keys unwrapped here and wrapped to each agent.</summary>
    public async Task<CreateModelJobRequest> RequestAsync(Guid modelId, Guid datasetId, int rowsPerUnit, IEnumerable<AgentView> agents, byte[]? outputKey = null)
    {
        outputKey ??= PublicKey;
        var model = await HeaderAsync(modelId, "models");
        var dataset = await HeaderAsync(datasetId, "datasets");
        var modelKey = model.UnwrapFileKey(Key);
        var datasetKey = dataset.UnwrapFileKey(Key);
        return new CreateModelJobRequest
        {
            Name = "model run",
            ModelId = modelId,
            DatasetId = datasetId,
            RowsPerUnit = rowsPerUnit,
            OutputKey = outputKey,
            Grants = [.. agents.Select(a => new AgentKeyGrant
            {
                AgentId = a.Id,
                EnclaveKey = a.EnclaveKey,
                ModelGrant = KeyGrant.Wrap(modelKey, model, a.EnclaveKey!, outputKey),
                DatasetGrant = KeyGrant.Wrap(datasetKey, dataset, a.EnclaveKey!, outputKey),
            })],
        };
    }

    public Task<HttpResponseMessage> SubmitAsync(CreateModelJobRequest request) => http.PostAsJsonAsync("api/model-jobs", request, PortalProcess.Json);

    /// <summary>Downloads and opens every unit's output, in unit order.</summary>
    public async Task<IReadOnlyList<(UnitOutputView Unit, byte[] Plaintext)>> OutputsAsync(Guid jobId)
    {
        var outputs = (await http.GetFromJsonAsync<IReadOnlyList<UnitOutputView>>($"api/model-jobs/{jobId}/outputs", PortalProcess.Json))!;
        var opened = new List<(UnitOutputView, byte[])>();
        foreach (var output in outputs)
        {
            var sealedBytes = await http.GetByteArrayAsync($"api/blobs/{output.BlobId}");
            var plain = new MemoryStream();
            await SealedEnvelope.OpenAsync(new MemoryStream(sealedBytes), plain, Key);
            opened.Add((output, plain.ToArray()));
        }

        return opened;
    }

    /// <summary>The dataset's file key, opened with the developer's key (what the output digests of a checked job are keyed from).</summary>
    public async Task<byte[]> DatasetFileKeyAsync(Guid datasetId) => (await HeaderAsync(datasetId, "datasets")).UnwrapFileKey(Key);

    private async Task<SealedHeader> HeaderAsync(Guid assetId, string kind)
    {
        var asset = await http.GetFromJsonAsync<JsonElement>($"api/{kind}/{assetId}");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/blobs/{asset.GetProperty("blobId").GetGuid()}");
        request.Headers.Range = new RangeHeaderValue(0, 8191);
        using var response = await http.SendAsync(request);
        return await SealedHeader.ReadAsync(new MemoryStream(await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync()));
    }

    public void Dispose() => Key.Dispose();
}
