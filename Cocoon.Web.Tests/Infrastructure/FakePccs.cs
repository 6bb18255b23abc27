using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>
/// A PCCS on the loopback, speaking its v4 API shape (paths, issuer-chain headers as URL-encoded PEM,
/// the root CA's CRL as hex): it serves what the test puts in it and 404s everything else.
/// </summary>
public sealed class FakePccs : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (byte[] Body, string? ChainHeader, string? Chain)> _documents = new(StringComparer.Ordinal);
    private readonly WebApplication _app;

    private FakePccs(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    /// <summary>Requests served, by path and query.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<FakePccs> StartAsync()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}/";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        var pccs = new FakePccs(app, url);
        app.Run(async context =>
        {
            var key = context.Request.Path + context.Request.QueryString;
            pccs.Requests.Enqueue(key);
            if (!pccs._documents.TryGetValue(key, out var document))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            if (document.ChainHeader is not null)
            {
                context.Response.Headers[document.ChainHeader] = Uri.EscapeDataString(document.Chain!);
            }

            await context.Response.Body.WriteAsync(document.Body);
        });
        await app.StartAsync();
        return pccs;
    }

    public void ServeTcbInfo(string fmspc, byte[] body, string chain) =>
        _documents[$"/tdx/certification/v4/tcb?fmspc={fmspc}"] = (body, "TCB-Info-Issuer-Chain", chain);

    public void ServeQeIdentity(byte[] body, string chain) =>
        _documents["/tdx/certification/v4/qe/identity"] = (body, "SGX-Enclave-Identity-Issuer-Chain", chain);

    public void ServePlatformCrl(byte[] der, string chain) =>
        _documents["/sgx/certification/v4/pckcrl?ca=platform&encoding=der"] = (der, "SGX-PCK-CRL-Issuer-Chain", chain);

    /// <summary>As PCCS serves it: the DER as a hex string.</summary>
    public void ServeRootCrl(byte[] der) =>
        _documents["/sgx/certification/v4/rootcacrl"] = (System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(der)), null, null);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
