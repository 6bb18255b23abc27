using System.Text;
using Cocoon.Agent.Inference;
using Cocoon.Agent.ModelRuns;
using Cocoon.Agent.Tests.Inference;
using Cocoon.Web.Tests.Infrastructure;
using Google.Protobuf;
using Microsoft.Playwright;
using Onnx;

namespace Cocoon.Web.Tests.Browser;

/// <summary>
/// The promise, checked whole: a developer uploads a model and a dataset holding a random canary
/// through the real page, runs them on a real agent, and decrypts the output in the browser. Then
/// the database dump, every file of the blob store and every line the portal logged are searched:
/// the canary is nowhere, and the decrypted output is the model applied to the rows.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "EndToEnd")]
[Trait("Category", "Browser")]
[Trait("Category", "Confidentiality")]
public sealed class ConfidentialityTests(PostgresFixture postgres)
{
    private const int Rows = 300;
    private const int Inputs = 5;
    private const int Outputs = 3;

    [Fact]
    public async Task The_portal_never_sees_the_canary_and_the_developer_gets_the_right_output()
    {
        var db = await postgres.CreateDatabaseAsync("confidentiality");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-confidentiality");
        await using var allowed = await AgentProcess.StartPairedAsync(portal, "allowed");
        await using var bystander = await AgentProcess.StartPairedAsync(portal, "bystander");
        await portal.WaitForAgentsOnlineAsync(2);

        var canary = "CANARY-" + Guid.NewGuid().ToString("N");
        var (onnx, reference) = TestMlp.Build(Inputs, 8, Outputs, seed: 3);
        var withCanary = ModelProto.Parser.ParseFrom(onnx);
        withCanary.DocString = $"trained on secret data {canary}";
        var random = new Random(5);
        var x = Enumerable.Range(0, Rows * Inputs).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var dataset = DatasetWithMetadata(x, canary);

        await using var browser = await Infrastructure.Browser.LaunchAsync();
        var page = await browser.OpenSignedInAsync(portal.BaseAddress, "/models");
        await Infrastructure.Browser.CreateDeveloperKeyAsync(page);

        await UploadAsync(page, "secret-model", "model.onnx", withCanary.ToByteArray(), dataset: false);
        await UploadAsync(page, "secret-rows", "rows.safetensors", dataset, dataset: true);
        await Assertions.Expect(page.Locator("#datasets-table")).ToContainTextAsync(Rows.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Run it, allowing only one of the two agents; the page says plainly that neither is hardware-attested.
        await page.GotoAsync(new Uri(portal.BaseAddress, "jobs/new/model").ToString());
        await page.WaitForSelectorAsync("#cocoon-app[data-interactive=true]", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#model-job-agents")).ToContainTextAsync("not hardware-attested");
        await page.Locator("#model-job-rows").FillAsync("64");
        await page.Locator("[data-agent=bystander] input, input[data-agent=bystander]").First.UncheckAsync();
        await page.Locator("#submit-model-job").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.StartsWith("/jobs/", StringComparison.Ordinal) && !url.EndsWith("/model", StringComparison.Ordinal), new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#job-state")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 120_000 });
        Assert.DoesNotContain("bystander", await page.Locator("#units-table").InnerTextAsync(), StringComparison.Ordinal);

        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#download-outputs").ClickAsync());
        await Assertions.Expect(page.Locator("#outputs-status")).ToContainTextAsync("Decrypted 5 unit output(s)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repo.ResultsDirectory, "confidential-job.png"), FullPage = true });
        var output = await File.ReadAllBytesAsync((await download.PathAsync())!);
        Task<byte[]> Read(long o, int l) => Task.FromResult(output.AsSpan((int)o, l).ToArray());
        var y = await Safetensors.ReadRowsAsync((await Safetensors.ReadHeaderAsync(Read, output.Length)).Single(e => e.Name == "y"), 0, Rows, Read);
        var expected = reference(x, Rows);
        Assert.Equal([Rows, Outputs], y.Shape);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - y.Data[i]) < 1e-5, $"element {i}: {y.Data[i]} vs {expected[i]}");
        }

        // Where the canary must not be: the database, the blob store, the portal's logs (and the agents' logs).
        var needles = new[] { canary, Convert.ToHexStringLower(Encoding.ASCII.GetBytes(canary)), Convert.ToBase64String(Encoding.ASCII.GetBytes(canary))[..24] };
        var dump = await DatabaseDump.TextAsync(db);
        Assert.Contains("key_grants", dump, StringComparison.Ordinal);
        var files = Directory.GetFiles(portal.BlobRoot, "*", SearchOption.AllDirectories);
        Assert.True(files.Length >= 2 + 5, $"the blob store holds {files.Length} files");
        var places = new List<(string Where, string Text)> { ("database dump", dump), ("portal log", portal.Output), ("allowed agent log", allowed.Output), ("bystander agent log", bystander.Output) };
        places.AddRange(files.Select(f => ($"blob store {Path.GetRelativePath(portal.BlobRoot, f)}", Encoding.Latin1.GetString(File.ReadAllBytes(f)))));
        foreach (var (where, text) in places)
        {
            foreach (var needle in needles)
            {
                Assert.False(text.Contains(needle, StringComparison.OrdinalIgnoreCase), $"the canary is in the {where}");
            }
        }

        // The search would have found it: the plaintext files hold it.
        Assert.Contains(canary, Encoding.Latin1.GetString(withCanary.ToByteArray()), StringComparison.Ordinal);
        Assert.Contains(canary, Encoding.Latin1.GetString(dataset), StringComparison.Ordinal);
    }

    private static byte[] DatasetWithMetadata(float[] x, string canary)
    {
        var plain = TensorFiles.WriteSafetensors(new Dictionary<string, Tensor> { ["x"] = new([Rows, Inputs], x) });
        // Rewrite the header with a __metadata__ entry carrying the canary (safetensors allows string metadata).
        var headerLength = (int)BitConverter.ToUInt64(plain, 0);
        var json = Encoding.UTF8.GetString(plain, 8, headerLength).TrimEnd();
        json = json[..^1] + $",\"__metadata__\":{{\"source\":\"{canary}\"}}}}";
        var bytes = Encoding.UTF8.GetBytes(json);
        var padded = (bytes.Length + 7) / 8 * 8;
        var data = plain.AsSpan(8 + headerLength);
        var file = new byte[8 + padded + data.Length];
        BitConverter.GetBytes((ulong)padded).CopyTo(file, 0);
        bytes.CopyTo(file, 8);
        file.AsSpan(8 + bytes.Length, padded - bytes.Length).Fill((byte)' ');
        data.CopyTo(file.AsSpan(8 + padded));
        return file;
    }

    private static async Task UploadAsync(IPage page, string name, string fileName, byte[] content, bool dataset)
    {
        if (dataset)
        {
            await page.Locator("div.mud-input-control.mud-select:has(#asset-kind)").ClickAsync();
            await page.Locator(".mud-popover-open").GetByText("Dataset (safetensors)").ClickAsync();
        }

        await page.Locator("#asset-name input, input#asset-name").First.FillAsync(name);
        await page.SetInputFilesAsync("#asset-file", new FilePayload { Name = fileName, MimeType = "application/octet-stream", Buffer = content });
        await page.Locator("#upload-asset").ClickAsync();
        await Assertions.Expect(page.Locator("#assets-message")).ToContainTextAsync("sealed and stored", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator(dataset ? "#datasets-table" : "#models-table")).ToContainTextAsync(name);
    }
}
