using Cocoon.Shared.Ton;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Identity.TonProof;
using Cocoon.Web.Hosting;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cocoon.Web.Tests.Identity;

public sealed class TonProofVerifierTests
{
    private static readonly DateTimeOffset ProofTime = DateTimeOffset.FromUnixTimeSeconds(TonVectors.Timestamp);

    /// <summary>A verifier for portal.example.com (the vectors' domain) at a fixed time.</summary>
    internal static TonProofVerifier Verifier(DateTimeOffset now, string publicUrl = "https://portal.example.com") =>
        new(Options.Create(new PortalOptions { PublicUrl = publicUrl }), Options.Create(new WalletSignInOptions()), new FakeTimeProvider(now));

    [Fact]
    public void Digest_matches_the_ton_core_known_answer()
    {
        var digest = TonProofMessage.Digest(TonProofMessage.Build(TonAddress.ParseRaw(TonVectors.V4R2Address), TonVectors.Domain, TonVectors.Timestamp, TonVectors.Payload));
        Assert.Equal(TonVectors.V4R2Digest, Convert.ToHexStringLower(digest));
    }

    [Fact]
    public void A_v4r2_proof_made_by_ton_crypto_verifies()
    {
        var wallet = Verifier(ProofTime.AddMinutes(1)).Verify(TonVectors.V4R2Proof());
        Assert.Equal(WalletVersion.V4R2, wallet.Version);
        Assert.Equal(TonVectors.V4R2Address, wallet.Address.ToRaw());
        Assert.False(wallet.Testnet);
    }

    public static TheoryData<string, Func<TonProofRequest, TonProofRequest>> Tampered() => new()
    {
        { "wrong_network", r => r with { Network = "-1" } },
        { "domain_mismatch", r => r with { Proof = r.Proof! with { Domain = new TonProofDomain { LengthBytes = 12, Value = "evil.example" } } } },
        { "domain_mismatch", r => r with { Proof = r.Proof! with { Domain = r.Proof.Domain! with { LengthBytes = 17 } } } },
        { "bad_signature", r => r with { Proof = r.Proof! with { Payload = TonVectors.Payload[..^1] + "0" } } },
        { "bad_signature", r => r with { Proof = r.Proof! with { Timestamp = TonVectors.Timestamp + 1 } } },
        { "bad_signature", r => r with { Proof = r.Proof! with { Signature = Convert.ToBase64String(new byte[64]) } } },
        { "address_mismatch", r => r with { Address = "0:" + new string('1', 64) } },
        // The state init says nothing of the workchain; the signature does.
        { "bad_signature", r => r with { Address = "-1:" + TonVectors.V4R2Address[2..] } },
        { "public_key_mismatch", r => r with { PublicKey = new string('a', 64) } },
        { "bad_boc", r => r with { Proof = r.Proof! with { StateInit = Convert.ToBase64String([1, 2, 3]) } } },
        { "bad_boc", r => r with { Proof = r.Proof! with { StateInit = "%%%" } } },
        { "bad_address", r => r with { Address = "not an address" } },
        { "bad_request", r => r with { PublicKey = "xyz" } },
        { "bad_request", r => r with { Proof = null } },
    };

    [Theory]
    [MemberData(nameof(Tampered))]
    public void Tampered_proofs_are_refused_with_their_code(string code, Func<TonProofRequest, TonProofRequest> tamper)
    {
        var error = Assert.Throws<TonProofException>(() => Verifier(ProofTime.AddMinutes(1)).Verify(tamper(TonVectors.V4R2Proof())));
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void Proofs_expire_after_fifteen_minutes_and_must_not_come_from_the_future()
    {
        Verifier(ProofTime.AddMinutes(15)).Verify(TonVectors.V4R2Proof());
        Assert.Equal("expired", Assert.Throws<TonProofException>(() => Verifier(ProofTime.AddMinutes(15).AddSeconds(1)).Verify(TonVectors.V4R2Proof())).Code);
        Assert.Equal("expired", Assert.Throws<TonProofException>(() => Verifier(ProofTime.AddMinutes(-6)).Verify(TonVectors.V4R2Proof())).Code);
    }

    [Fact]
    public void The_domain_includes_a_non_default_port()
    {
        using var wallet = new TestWallet();
        var proof = wallet.Proof("abc", "127.0.0.1:5080", TonVectors.Timestamp);
        Verifier(ProofTime, "http://127.0.0.1:5080").Verify(proof);
        Assert.Equal("domain_mismatch", Assert.Throws<TonProofException>(() => Verifier(ProofTime, "http://127.0.0.1:5081").Verify(proof)).Code);
    }

    [Fact]
    public void A_wallet_made_by_the_test_gives_the_same_key_back_through_its_state_init()
    {
        using var wallet = new TestWallet(Convert.FromHexString(TonVectors.Seed));
        Assert.Equal(TonVectors.PublicKey, Convert.ToHexStringLower(wallet.PublicKey));
        // Same seed and wallet id as the @ton/core vector: the same address.
        Assert.Equal(TonVectors.V4R2Address, wallet.Address.ToRaw());
    }
}
