using System.Text.Json;
using Cocoon.Shared.Ton;
using Cocoon.Web.Features.Identity.TonProof;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Identity;

/// <summary>
/// Proofs made by a second implementation (@ton/ton's wallet contracts, run with node) verify in C#
/// for every wallet version Cocoon recognises, and give the addresses of the published vectors.
/// </summary>
public sealed class WalletVersionsCrossCheckTests
{
    [Fact]
    public async Task Proofs_from_ton_ton_verify_for_every_wallet_version()
    {
        var proofs = await MakeProofsAsync(TonVectors.Seed, TonVectors.Domain, TonVectors.Timestamp, TonVectors.Payload);
        var verifier = TonProofVerifierTests.Verifier(DateTimeOffset.FromUnixTimeSeconds(TonVectors.Timestamp + 60));

        var verified = new Dictionary<string, WalletVersion>(StringComparer.Ordinal);
        foreach (var (name, proof) in proofs)
        {
            var wallet = verifier.Verify(proof);
            Assert.Equal(TonVectors.PublicKey, Convert.ToHexStringLower(wallet.PublicKey));
            verified[name] = wallet.Version;
        }

        Assert.Equal(WalletVersion.V3R1, verified["V3R1"]);
        Assert.Equal(WalletVersion.V3R2, verified["V3R2"]);
        Assert.Equal(WalletVersion.V4R2, verified["V4R2"]);
        Assert.Equal(WalletVersion.V5R1, verified["V5R1"]);
        Assert.Equal(WalletVersion.V5Beta, verified["V5Beta"]);
        Assert.Equal(TonVectors.V4R2Address, proofs["V4R2"].Address);
        Assert.Equal("0:2bfb4096c377e5289c06fa4a388baed95421c97600ea11a60a608a14215485b5", proofs["V5R1"].Address);
        Assert.Equal(TonVectors.V4R2Signature, proofs["V4R2"].Proof!.Signature);
    }

    private static async Task<Dictionary<string, TonProofRequest>> MakeProofsAsync(string seed, string domain, long timestamp, string payload)
    {
        var (code, output, error) = await Node.RunAsync("test/ton-proofs.mjs", seed, domain, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), payload);
        Assert.True(code == 0, $"node failed: {error}");
        return JsonSerializer.Deserialize<Dictionary<string, TonProofRequest>>(output)!;
    }
}
