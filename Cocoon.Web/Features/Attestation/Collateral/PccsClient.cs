using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Attestation.Collateral;

/// <summary>
/// Reads collateral from a PCCS (or anything serving its v4 API) at <see cref="AttestationOptions.PccsUrl"/>.
/// Issuer chains come in headers as URL-encoded PEM; the root CA's CRL comes from PCCS's own endpoint
/// (hex of DER), which Intel's PCS does not have.
/// </summary>
public sealed class PccsClient(HttpClient http, IOptions<AttestationOptions> options)
{
    public string? BaseUrl => string.IsNullOrWhiteSpace(options.Value.PccsUrl) ? null : options.Value.PccsUrl.TrimEnd('/') + "/";

    public bool IsConfigured => BaseUrl is not null;

    /// <exception cref="HttpRequestException">The PCCS did not answer with the document.</exception>
    public async Task<(byte[] Body, string IssuerChain)> FetchAsync(CollateralKind kind, string fmspc, CancellationToken cancellationToken)
    {
        var (path, chainHeaders) = kind switch
        {
            CollateralKind.TcbInfo => ($"tdx/certification/v4/tcb?fmspc={Uri.EscapeDataString(fmspc)}", new[] { "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain" }),
            CollateralKind.QeIdentity => ("tdx/certification/v4/qe/identity", ["SGX-Enclave-Identity-Issuer-Chain"]),
            CollateralKind.PckCrlPlatform => ("sgx/certification/v4/pckcrl?ca=platform&encoding=der", ["SGX-PCK-CRL-Issuer-Chain"]),
            CollateralKind.PckCrlProcessor => ("sgx/certification/v4/pckcrl?ca=processor&encoding=der", ["SGX-PCK-CRL-Issuer-Chain"]),
            _ => ("sgx/certification/v4/rootcacrl", Array.Empty<string>()),
        };
        var baseUrl = BaseUrl ?? throw new HttpRequestException($"no PCCS is configured ({AttestationOptions.Section}:PccsUrl).");
        using var response = await http.GetAsync(new Uri(new Uri(baseUrl), path), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {path} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }

        var chain = chainHeaders.Select(h => response.Headers.TryGetValues(h, out var values) ? values.FirstOrDefault() : null).FirstOrDefault(v => v is not null);
        if (chainHeaders.Length > 0 && chain is null)
        {
            throw new HttpRequestException($"GET {path} answered without its issuer chain header ({chainHeaders[0]}).");
        }

        return (await response.Content.ReadAsByteArrayAsync(cancellationToken), chain is null ? "" : Uri.UnescapeDataString(chain));
    }
}
