using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace Cocoon.Benchmarks;

/// <summary>
/// Browser-side sealing throughput in headless Chromium: the envelope's sealChunks over a Blob against a
/// bare WebCrypto AES-256-GCM loop over the same bytes in the same page. The bundle is served from
/// Cocoon.Web/wwwroot/dist at a fake https origin, so no portal needs to run.
/// </summary>
public static class BrowserSealBenchmark
{
    public static async Task<int> RunAsync(int megabytes)
    {
        var dist = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../Cocoon.Web/wwwroot/dist"));
        if (!File.Exists(Path.Combine(dist, "vault.js")))
        {
            Console.Error.WriteLine($"cocoon-bench: {dist}/vault.js is missing; build Cocoon.Web first.");
            return 1;
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/lib/chromium/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu"],
        });
        var page = await browser.NewPageAsync();
        await page.RouteAsync("https://bench.local/**", async route =>
        {
            var path = new Uri(route.Request.Url).AbsolutePath.TrimStart('/');
            if (path.Length == 0)
            {
                await route.FulfillAsync(new() { Body = "<!doctype html><title>bench</title>", ContentType = "text/html" });
                return;
            }

            var file = Path.Combine(dist, path);
            await route.FulfillAsync(File.Exists(file)
                ? new() { BodyBytes = await File.ReadAllBytesAsync(file), ContentType = "text/javascript" }
                : new() { Status = 404 });
        });
        await page.GotoAsync("https://bench.local/");
        var result = await page.EvaluateAsync<JsonElement>("""
            async (mb) => {
              const { sealChunks } = await import("/vault.js");
              const size = mb * 1024 * 1024, chunk = 64 * 1024;
              const data = new Uint8Array(size);
              for (let o = 0; o < size; o += 65536) crypto.getRandomValues(data.subarray(o, Math.min(size, o + 65536)));
              const blob = new Blob([data]);
              const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
              const recipient = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
              const key = await crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), "AES-GCM", false, ["encrypt"]);
              const bare = async () => {
                const t = performance.now();
                for (let i = 0; i * chunk < size; i++) {
                  const iv = new Uint8Array(12); iv[0] = i & 255; iv[1] = i >> 8;
                  const piece = new Uint8Array(await blob.slice(i * chunk, (i + 1) * chunk).arrayBuffer());
                  await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, piece);
                }
                return performance.now() - t;
              };
              const sealed = async () => {
                const t = performance.now();
                for await (const _ of sealChunks(blob, [recipient], "dataset", crypto.getRandomValues(new Uint8Array(16)), chunk)) { }
                return performance.now() - t;
              };
              await bare(); await sealed();
              const b = [], s = [];
              for (let r = 0; r < 5; r++) { b.push(await bare()); s.push(await sealed()); }
              const median = (xs) => xs.sort((x, y) => x - y)[2];
              return { bareMs: median(b), sealedMs: median(s), mb };
            }
            """, megabytes);
        var bareMs = result.GetProperty("bareMs").GetDouble();
        var sealedMs = result.GetProperty("sealedMs").GetDouble();
        Console.WriteLine($"| browser (headless Chromium), {megabytes} MiB in 64 KiB chunks | median of 5 | throughput |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| bare WebCrypto AES-256-GCM loop (Blob slices) | {bareMs:F0} ms | {megabytes / (bareMs / 1000):F0} MiB/s |");
        Console.WriteLine($"| sealChunks (HPKE wrap, header MAC, STREAM chunks) | {sealedMs:F0} ms | {megabytes / (sealedMs / 1000):F0} MiB/s |");
        Console.WriteLine($"sealing runs at {100 * bareMs / sealedMs:F0}% of the bare loop");
        return 0;
    }
}
