using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Cocoon.Agent.Connection;

namespace Cocoon.Agent.ModelRuns;

/// <summary>What the portal answered to an output upload.</summary>
public sealed record UploadedOutput(Guid BlobId, string Digest, long Size);

/// <summary>
/// The agent's HTTP side of a lease: ranged reads of the job's sealed inputs and the upload of the
/// sealed output, each authorised by the agent's access token and the lease it holds.
/// </summary>
public sealed class LeaseBlobs(AgentIdentity identity, AgentTokenSource tokens) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>Reads <paramref name="length"/> ciphertext bytes at <paramref name="offset"/>.</summary>
    public async Task<byte[]> ReadAsync(Guid leaseId, Guid blobId, long offset, int length, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, $"api/agent/leases/{leaseId}/blobs/{blobId}", cancellationToken);
        request.Headers.Range = new RangeHeaderValue(offset, offset + length - 1);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureSuccessAsync(response, "read a job input", cancellationToken);
        if (response.StatusCode != HttpStatusCode.PartialContent)
        {
            throw new HttpRequestException("The portal ignored the range of a blob read.");
        }

        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>Streams a whole sealed blob into <paramref name="destination"/>.</summary>
    public async Task DownloadAsync(Guid leaseId, Guid blobId, Stream destination, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, $"api/agent/leases/{leaseId}/blobs/{blobId}", cancellationToken);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureSuccessAsync(response, "download the model", cancellationToken);
        await response.Content.CopyToAsync(destination, cancellationToken);
    }

    /// <summary>Uploads the unit's sealed output; the portal stores it for the job's owner.</summary>
    public async Task<UploadedOutput> UploadOutputAsync(Guid leaseId, byte[] sealedOutput, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Put, $"api/agent/leases/{leaseId}/output", cancellationToken);
        request.Content = new ByteArrayContent(sealedOutput);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("X-Content-SHA256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(sealedOutput)));
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, "upload the output", cancellationToken);
        return await response.Content.ReadFromJsonAsync<UploadedOutput>(cancellationToken)
            ?? throw new HttpRequestException("The portal's answer to the output upload was empty.");
    }

    private async Task<HttpRequestMessage> RequestAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, new Uri(identity.PortalUri, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetCachedAccessTokenAsync(cancellationToken));
        return request;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"Could not {what}: the portal answered {(int)response.StatusCode} {body[..Math.Min(body.Length, 300)]}");
        }
    }

    public void Dispose() => _http.Dispose();
}
