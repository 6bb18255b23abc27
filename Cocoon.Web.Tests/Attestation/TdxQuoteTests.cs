using System.Security.Cryptography;
using System.Text;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Sealing;

namespace Cocoon.Web.Tests.Attestation;

/// <summary>
/// A real TDX v4 quote (with Intel's PCK chain embedded; Fixtures/README.md says where it comes from)
/// parsed and verified against Intel's root, then tampered with everywhere; and quotes built with a
/// test hierarchy for the binding to the enclave key and the measurement allow-list.
/// </summary>
public sealed class TdxQuoteTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Fixture = Convert.FromHexString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Attestation", "Fixtures", "tdx-v4-quote.hex")).Trim());

    [Fact]
    public void The_real_quote_parses_and_verifies_against_intels_root()
    {
        var quote = TdxQuoteVerifier.Verify(Fixture, TdxQuoteVerifier.IntelRoot, Now);

        Assert.Equal(4, quote.Version);
        Assert.Equal("f06dfda6dce1cf904d4e2bab1dc370634cf95cefa2ceb2de2eee127c9382698090d7a4a13e14c536ec6c9c3c8fa87077", Convert.ToHexStringLower(quote.MrTd));
        Assert.Equal("68102e7b524af310f7b7d426ce75481e36c40f5d513a9009c046e9d37e31551f0134d954b496a3357fd61d03f07ffe96", Convert.ToHexStringLower(quote.Rtmrs[0]));
        Assert.Equal("287a9242edd8c8429913ec66f44af611b820cf9b574f303a6caeddeb4c9826311aef6e518aaf4a17f55a81154592b7b3", Convert.ToHexStringLower(quote.Rtmrs[3]));
        Assert.StartsWith("0001d579ba6e734a", Convert.ToHexStringLower(quote.ReportData), StringComparison.Ordinal);
        Assert.Equal(3, quote.PckChain.Count);
        Assert.Contains("Intel SGX PCK Certificate", quote.PckChain[0].Subject, StringComparison.Ordinal);
        Assert.Equal("44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3", Convert.ToHexStringLower(SHA256.HashData(TdxQuoteVerifier.IntelRoot.RawData)));
    }

    [Fact]
    public void Every_byte_up_to_intels_root_certificate_is_covered()
    {
        // Header, TD report, signatures, attestation key, QE report and auth data, every length field,
        // and the PCK leaf and platform CA certificates. (The embedded copy of the root is not used:
        // the chain must end in the pinned root.)
        var text = Encoding.ASCII.GetString(Fixture);
        var rootStart = text.LastIndexOf("-----BEGIN", StringComparison.Ordinal);
        var refused = 0;
        for (var i = 0; i < rootStart; i++)
        {
            var tampered = (byte[])Fixture.Clone();
            tampered[i] ^= 0x04;
            var at = i;
            var error = Record.Exception(() => TdxQuoteVerifier.Verify(tampered, TdxQuoteVerifier.IntelRoot, Now));
            Assert.True(error is AttestationException, $"flipping byte {at} gave {error?.GetType().Name ?? "no error"}");
            refused++;
        }

        Assert.True(refused > 3900, $"{refused} tampered bytes refused");
    }

    [Fact]
    public void A_tampered_pck_certificate_appended_data_truncation_another_root_or_an_expired_chain_are_refused()
    {
        var text = Encoding.ASCII.GetString(Fixture);
        var leaf = text.IndexOf("-----BEGIN", StringComparison.Ordinal) + 300;
        foreach (var at in new[] { leaf, leaf + 200, leaf + 900 })
        {
            var tampered = (byte[])Fixture.Clone();
            tampered[at] = tampered[at] == (byte)'A' ? (byte)'B' : (byte)'A';
            Assert.Throws<AttestationException>(() => TdxQuoteVerifier.Verify(tampered, TdxQuoteVerifier.IntelRoot, Now));
        }

        var appended = (byte[])Fixture.Clone();
        appended[^1] = 1;
        Assert.Contains("after its signature", Assert.Throws<AttestationException>(() => TdxQuoteVerifier.Verify(appended, TdxQuoteVerifier.IntelRoot, Now)).Message, StringComparison.Ordinal);
        for (var length = 0; length < 4936; length += 37)
        {
            Assert.Throws<AttestationException>(() => TdxQuoteVerifier.Verify(Fixture.AsSpan(0, length), TdxQuoteVerifier.IntelRoot, Now));
        }

        using var builder = new TdxQuoteBuilder();
        Assert.Contains("trusted Intel root", Assert.Throws<AttestationException>(() => TdxQuoteVerifier.Verify(Fixture, builder.Root, Now)).Message, StringComparison.Ordinal);
        Assert.Throws<AttestationException>(() => TdxQuoteVerifier.Verify(Fixture, TdxQuoteVerifier.IntelRoot, new DateTimeOffset(2033, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Evidence_holds_only_for_its_agent_nonce_and_enclave_key_and_a_production_td()
    {
        using var builder = new TdxQuoteBuilder();
        using var enclave = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var key = Hpke.PublicKeyBytes(enclave);
        var agentId = Guid.NewGuid();
        var nonce = RandomNumberGenerator.GetBytes(EvidenceBinding.NonceLength);
        var mrtd = RandomNumberGenerator.GetBytes(48);
        var evidence = TdxEvidence.Create(key, builder.Build(EvidenceBinding.ReportData(agentId, nonce, key), mrtd));

        var quote = TdxEvidence.Verify(evidence, builder.Root, Now, agentId, nonce);
        Assert.Equal(mrtd, quote.MrTd);

        string Refusal(EnclaveEvidence e, Guid agent, byte[] n) =>
            Assert.Throws<AttestationException>(() => TdxEvidence.Verify(e, builder.Root, Now, agent, n)).Message;
        using var other = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        Assert.Contains("does not commit", Refusal(evidence with { PublicKey = Hpke.PublicKeyBytes(other) }, agentId, nonce), StringComparison.Ordinal);
        Assert.Contains("does not commit", Refusal(evidence, Guid.NewGuid(), nonce), StringComparison.Ordinal);
        Assert.Contains("does not commit", Refusal(evidence, agentId, RandomNumberGenerator.GetBytes(EvidenceBinding.NonceLength)), StringComparison.Ordinal);
        Assert.Contains("debug TD", Refusal(TdxEvidence.Create(key, builder.Build(EvidenceBinding.ReportData(agentId, nonce, key), mrtd, debug: true)), agentId, nonce), StringComparison.Ordinal);
        Assert.Contains("trusted Intel root", Assert.Throws<AttestationException>(() => TdxEvidence.Verify(evidence, TdxQuoteVerifier.IntelRoot, Now, agentId, nonce)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_real_quotes_platform_is_read_from_its_pck_certificate()
    {
        var quote = TdxQuoteVerifier.Verify(Fixture, TdxQuoteVerifier.IntelRoot, Now);
        var platform = Cocoon.Shared.Attestation.Collateral.PckExtensions.Read(quote.PckChain[0]);

        // As Intel's PCS names it in the TCB info captured for this quote (Fixtures/tdx-v4-quote.collateral.json).
        Assert.Equal("20a06f000000", platform.FmspcHex);
        Assert.Equal("0000", Convert.ToHexStringLower(platform.PceId));
        Assert.Equal(16, platform.CpuSvnComponents.Length);
        Assert.Contains("Platform CA", quote.PckChain[0].Issuer, StringComparison.Ordinal);
    }
}
