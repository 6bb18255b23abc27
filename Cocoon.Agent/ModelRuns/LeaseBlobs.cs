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
        using var response = await SendAsync(HttpMethod.Get, $"api/agent/leases/{leaseId}/blobs/{blobId}", r => r.Headers.Range = new RangeHeaderValue(offset, offset + length - 1), cancellationToken);
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
        using var response = await SendAsync(HttpMethod.Get, $"api/agent/leases/{leaseId}/blobs/{blobId}", _ => { }, cancellationToken);
        await EnsureSuccessAsync(response, "download the model", cancellationToken);
        await response.Content.CopyToAsync(destination, cancellationToken);
    }

    /// <summary>Uploads the unit's sealed output; the portal stores it for the job's owner.</summary>
    public async Task<UploadedOutput> UploadOutputAsync(Guid leaseId, byte[] sealedOutput, CancellationToken cancellationToken)
    {
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(sealedOutput));
        using var response = await SendAsync(HttpMethod.Put, $"api/agent/leases/{leaseId}/output", r =>
        {
            r.Content = new ByteArrayContent(sealedOutput);
            r.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            r.Headers.Add("X-Content-SHA256", digest);
        }, cancellationToken);
        await EnsureSuccessAsync(response, "upload the output", cancellationToken);
        return await response.Content.ReadFromJsonAsync<UploadedOutput>(cancellationToken)
            ?? throw new HttpRequestException("The portal's answer to the output upload was empty.");
    }

    /// <summary>Sends with the cached token; a 401 (the portal restarted with new keys) gets one retry with a fresh token.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Action<HttpRequestMessage> prepare, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, new Uri(identity.PortalUri, path));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetCachedAccessTokenAsync(cancellationToken));
            prepare(request);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0)
            {
                return response;
            }

            response.Dispose();
            tokens.InvalidateCachedToken();
        }
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
