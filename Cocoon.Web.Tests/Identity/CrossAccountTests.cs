using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Tests.Inference;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Identity;

/// <summary>
/// Every kind of object one account owns — jobs and their units, uploads, blobs, models, datasets,
/// API tokens, agents — read, changed, completed and deleted by another
/// account: 404 each time, as if it did not exist, and the owner's objects are all still there after.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CrossAccountTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Another_account_finds_nothing_of_yours()
    {
        var db = await postgres.CreateDatabaseAsync("cross_account");
        await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "portal-cross-account");
        using var owner = new SealedDeveloper(await portal.SignInAsync(new TestWallet()));
        var http = owner.Http;

        var job = (await (await http.PostAsJsonAsync("api/jobs", new CreateJobRequest { Name = "mine", MatrixSize = 8, MatrixCount = 2, MatricesPerUnit = 1 }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!;
        var upload = (await (await http.PostAsJsonAsync("api/uploads", new { length = 100 })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var (onnx, _) = TestMlp.Build(4, 8, 2, seed: 1);
        var dataset = TensorFiles.WriteSafetensors(new Dictionary<string, Tensor> { ["x"] = new([4, 4], new float[16]) });
        var (modelId, datasetId) = await owner.CreateAssetsAsync(onnx, dataset, 4);
        var blob = (await http.GetFromJsonAsync<JsonElement>($"api/models/{modelId}")).GetProperty("blobId").GetGuid();
        var token = (await (await http.PostAsJsonAsync("api/tokens", new { name = "mine", scopes = (string[])["jobs:read"], expiresInDays = 1 }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetProperty("id").GetGuid();
        (await http.PostAsync("api/account/provider", null)).EnsureSuccessStatusCode();
        var (credentials, _) = await TestAgents.PairAsync(portal, "mine", http);

        // The other account is a provider too, so agent routes answer it rather than refuse its role.
        var other = await portal.SignInAsync(new TestWallet());
        (await other.PostAsync("api/account/provider", null)).EnsureSuccessStatusCode();
        (string Method, string Path, object? Body)[] attempts =
        [
            ("GET", $"api/jobs/{job.Id}", null),
            ("GET", $"api/jobs/{job.Id}/units", null),
            ("GET", $"api/uploads/{upload}", null),
            ("PUT", $"api/uploads/{upload}?offset=0", new byte[100]),
            ("POST", $"api/uploads/{upload}/complete", new { sha256 = new string('0', 64) }),
            ("DELETE", $"api/uploads/{upload}", null),
            ("GET", $"api/blobs/{blob}", null),
            ("DELETE", $"api/blobs/{blob}", null),
            ("GET", $"api/models/{modelId}", null),
            ("DELETE", $"api/models/{modelId}", null),
            ("GET", $"api/datasets/{datasetId}", null),
            ("DELETE", $"api/datasets/{datasetId}", null),
            ("GET", $"api/models/{datasetId}", null),
            ("DELETE", $"api/tokens/{token}", null),
            ("POST", $"api/agents/{credentials.AgentId}/revoke", null),
            ("POST", $"api/agents/{credentials.AgentId}/return-to-work", null),
        ];
        foreach (var (method, path, body) in attempts)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = body switch
                {
                    null => null,
                    byte[] bytes => new ByteArrayContent(bytes),
                    _ => JsonContent.Create(body),
                },
            };
            using var response = await other.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path} as another account: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // Nothing of the owner's was touched.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"api/jobs/{job.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"api/uploads/{upload}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"api/blobs/{blob}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"api/models/{modelId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"api/datasets/{datasetId}")).StatusCode);
        Assert.Single((await http.GetFromJsonAsync<JsonElement>("api/tokens")).EnumerateArray());
        await using var ledger = PortalDb.Open(db);
        Assert.Null(ledger.Agents.Single(a => a.Id == credentials.AgentId).RevokedAt);
    }
}
