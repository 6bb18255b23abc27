using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cocoon.Web.Tests.Browser;

/// <summary>A model sealed in the browser's Web Worker and uploaded as ciphertext, through the real page in Chromium.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Browser")]
public sealed class SealedUploadBrowserTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_model_is_sealed_in_the_browser_and_only_ciphertext_reaches_the_portal()
    {
        var db = await postgres.CreateDatabaseAsync("browser_sealed_upload");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser-sealed");
        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/models");
        await Assertions.Expect(page.Locator("#no-key")).ToBeVisibleAsync(new() { Timeout = 30_000 });

        // A weak passphrase is refused; a good one makes the key and downloads its encrypted backup.
        await page.Locator("#key-passphrase").FillAsync("short");
        await page.Locator("#create-key").ClickAsync();
        await Assertions.Expect(page.Locator("#assets-message")).ToContainTextAsync("at least 12 characters");
        await page.Locator("#key-passphrase").FillAsync("correct horse battery staple");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#create-key").ClickAsync());
        var backup = JsonDocument.Parse(await File.ReadAllTextAsync((await download.PathAsync())!)).RootElement;
        Assert.Equal(600_000, backup.GetProperty("iterations").GetInt32());
        Assert.Equal("PBKDF2-SHA256", backup.GetProperty("kdf").GetString());
        await Assertions.Expect(page.Locator("#public-key")).ToBeVisibleAsync();
        var me = await page.EvaluateAsync<JsonElement>("async () => (await fetch('/api/auth/me')).json()");
        var publicKey = Convert.FromHexString(me.GetProperty("encryptionPublicKey").GetString()!);

        // A model file with a canary in it goes through the worker.
        var canary = "CANARY-" + Guid.NewGuid().ToString("N");
        var weights = new byte[300_000];
        RandomNumberGenerator.Fill(weights);
        for (var at = 0; at + canary.Length < weights.Length; at += 50_000)
        {
            Encoding.ASCII.GetBytes(canary).CopyTo(weights, at);
        }

        var model = ModelWithWeights(weights);

        await page.Locator("#asset-name input, input#asset-name").First.FillAsync("canary-model");
        await page.SetInputFilesAsync("#asset-file", new FilePayload { Name = "model.onnx", MimeType = "application/octet-stream", Buffer = model });
        await page.Locator("#upload-asset").ClickAsync();
        await Assertions.Expect(page.Locator("#assets-message")).ToContainTextAsync("sealed and stored", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#models-table")).ToContainTextAsync("canary-model");
        Assert.Equal("100.0", await page.Locator("#upload-progress").GetAttributeAsync("data-value"));
        Assert.DoesNotContain(".ToString(", await page.ContentAsync(), StringComparison.Ordinal);
        await Assertions.Expect(page.GetByText("MiB sealed and sent")).ToContainTextAsync("MiB/s");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repo.ResultsDirectory, "browser-sealed-upload.png"), FullPage = true });

        // On disk: one sealed object, to the developer's key only, and no canary anywhere in the store.
        var objects = Directory.GetFiles(Path.Combine(portal.BlobRoot, "objects"), "*", SearchOption.AllDirectories);
        var stored = await File.ReadAllBytesAsync(Assert.Single(objects));
        Assert.Equal("CCSE"u8.ToArray(), stored[..4]);
        Assert.Equal(1, stored[26 + "model".Length]);
        Assert.Equal(SHA256.HashData(publicKey)[..8], stored[(27 + "model".Length)..(27 + "model".Length + 8)]);
        foreach (var file in Directory.GetFiles(portal.BlobRoot, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(canary, Encoding.ASCII.GetString(await File.ReadAllBytesAsync(file)), StringComparison.Ordinal);
        }

        // The backup restores the same key in another browser.
        var other = await browser.OpenSignedInAsync(portal.BaseAddress, "/models");
        await Assertions.Expect(other.Locator("#no-key")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await other.SetInputFilesAsync("#key-backup", (await download.PathAsync())!);
        await other.Locator("#key-passphrase").FillAsync("wrong passphrase!!");
        await other.Locator("#import-key").ClickAsync();
        await Assertions.Expect(other.Locator("#assets-message")).ToContainTextAsync("Wrong passphrase");
        await other.Locator("#key-passphrase").FillAsync("correct horse battery staple");
        await other.Locator("#import-key").ClickAsync();
        await Assertions.Expect(other.Locator("#public-key")).ToContainTextAsync(Convert.ToHexStringLower(publicKey)[..18]);
    }

    [Fact]
    public async Task An_upload_cut_off_by_closing_the_tab_goes_on_after_reopening_with_the_same_file()
    {
        var db = await postgres.CreateDatabaseAsync("browser_resume_upload");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-browser-resume");
        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/models");
        await Infrastructure.Browser.CreateDeveloperKeyAsync(page);

        // A file on disk: the same path gives the same name, size and modification time, which is how the page recognises it.
        var model = Path.Combine(Path.GetTempPath(), $"cocoon-big-{Guid.NewGuid():N}.onnx");
        await File.WriteAllBytesAsync(model, ModelWithWeights(RandomNumberGenerator.GetBytes(96 << 20)));
        await page.Locator("#asset-name input, input#asset-name").First.FillAsync("resumed-model");
        await page.SetInputFilesAsync("#asset-file", model);
        await page.Locator("#upload-asset").ClickAsync();

        // Close the tab once some, but not all, of it has arrived.
        double progress = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (progress is < 5 or >= 90)
        {
            Assert.True(DateTime.UtcNow < deadline && progress < 90, $"never caught the upload in flight (at {progress}%)");
            progress = double.Parse(await page.Locator("#upload-progress").GetAttributeAsync("data-value") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            await Task.Delay(20);
        }

        var context = page.Context;
        await page.CloseAsync();

        // Same browser profile, a new tab: choose the same file again.
        var again = await context.NewPageAsync();
        await again.GotoAsync(new Uri(portal.BaseAddress, "models").ToString());
        await again.WaitForSelectorAsync("#cocoon-app[data-interactive=true]", new() { Timeout = 30_000 });
        await Assertions.Expect(again.Locator("#public-key")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await again.Locator("#asset-name input, input#asset-name").First.FillAsync("resumed-model");
        await again.SetInputFilesAsync("#asset-file", model);
        await again.Locator("#upload-asset").ClickAsync();
        await Assertions.Expect(again.Locator("#assets-message")).ToContainTextAsync("sealed and stored", new() { Timeout = 120_000 });
        await Assertions.Expect(again.Locator("#assets-message")).ToContainTextAsync("went on from");

        // The portal checked the whole file's digest at completion; one object, nothing staged left.
        Assert.Single(Directory.GetFiles(Path.Combine(portal.BlobRoot, "objects"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(Path.Combine(portal.BlobRoot, "uploads")));
        File.Delete(model);
    }

    /// <summary>An ONNX model (y = x, [N, 4]) carrying <paramref name="weights"/> as an initializer: what the page reads its outputs from before sealing.</summary>
    private static byte[] ModelWithWeights(byte[] weights)
    {
        var model = Onnx.ModelProto.Parser.ParseFrom(new Cocoon.Agent.Inference.Graph.OnnxGraphBuilder().Input("x", "N", 4).Output("y", "N", 4).Node("Identity", ["x"], "y").Build());
        model.Graph.Initializer.Add(new Onnx.TensorProto { Name = "weights", DataType = 2, Dims = { weights.Length }, RawData = Google.Protobuf.ByteString.CopyFrom(weights) });
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }
}
