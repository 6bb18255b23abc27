using System.Security.Cryptography;
using Cocoon.Shared.Attestation;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Attestation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Tests.Attestation;

public sealed class EvidenceVerifierTests
{
    [Fact]
    public async Task Only_development_takes_development_evidence_unless_an_operator_allows_it()
    {
        using var credential = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var enclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var agent = new RegisteredAgent { Id = Guid.NewGuid(), Name = "a", DeviceName = "cpu", AgentVersion = "1", ClientId = "agent-x" };
        var nonce = RandomNumberGenerator.GetBytes(EvidenceBinding.NonceLength);
        var evidence = DevelopmentEvidence.Create(credential, agent.Id, Cocoon.Shared.Sealing.Hpke.PublicKeyBytes(enclave), nonce, DateTimeOffset.UtcNow);
        using var services = new ServiceCollection().BuildServiceProvider();

        var production = Verifier(services, Environments.Production, allow: false);
        foreach (var name in new[] { Environments.Production, Environments.Staging, "Demo" })
        {
            var refusal = await Assert.ThrowsAsync<AttestationException>(() => Verifier(services, name, allow: false).VerifyAsync(agent.Id, agent.ClientId, evidence, nonce, CancellationToken.None));
            Assert.Contains($"runs in {name}", refusal.Message, StringComparison.Ordinal);
            Assert.Contains("AllowDevelopmentEvidence", refusal.Message, StringComparison.Ordinal);
        }

        // Allowed (or outside Production), it goes on to look up the pairing key, which fails here only because
        // this test has no OpenIddict to ask: the refusal above came before that lookup.
        foreach (var verifier in new[] { Verifier(services, Environments.Production, allow: true), Verifier(services, Environments.Development, allow: false) })
        {
            await Assert.ThrowsAnyAsync<InvalidOperationException>(() => verifier.VerifyAsync(agent.Id, agent.ClientId, evidence, nonce, CancellationToken.None));
        }

        var garbageKey = evidence with { PublicKey = new byte[65] };
        Assert.Contains("enclave key", (await Assert.ThrowsAsync<AttestationException>(() => production.VerifyAsync(agent.Id, agent.ClientId, garbageKey, nonce, CancellationToken.None))).Message, StringComparison.Ordinal);
    }

    private static EvidenceVerifier Verifier(ServiceProvider services, string environment, bool allow) =>
        new(services.GetRequiredService<IServiceScopeFactory>(), new Environment(environment),
            Options.Create(new AttestationOptions { AllowDevelopmentEvidence = allow }), TimeProvider.System);

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "test";

        public string ContentRootPath { get; set; } = "/";

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
