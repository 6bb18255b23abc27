using System.Security.Cryptography;
using System.Text;
using Cocoon.Shared.Attestation;

namespace Cocoon.Web.Tests.Attestation;

public sealed class DevelopmentEvidenceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Nonce = RandomNumberGenerator.GetBytes(EvidenceBinding.NonceLength);

    [Fact]
    public void Evidence_verifies_with_the_pairing_key_and_nothing_else()
    {
        using var credential = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var agentId = Guid.NewGuid();
        var enclaveKey = EnclavePoint();
        var evidence = DevelopmentEvidence.Create(credential, agentId, enclaveKey, Nonce, Now);

        Assert.Equal(Now, DevelopmentEvidence.Verify(evidence, credential, agentId, Nonce, Now.AddHours(3)));
        Assert.Contains("replayed", Assert.Throws<AttestationException>(() => DevelopmentEvidence.Verify(evidence, credential, agentId, RandomNumberGenerator.GetBytes(EvidenceBinding.NonceLength), Now)).Message, StringComparison.Ordinal);
        Assert.Contains("pairing key", Refused(evidence, stranger, agentId), StringComparison.Ordinal);
        Assert.Contains("names agent", Refused(evidence, credential, Guid.NewGuid()), StringComparison.Ordinal);
        Assert.Contains("another enclave key", Refused(evidence with { PublicKey = EnclavePoint() }, credential, agentId), StringComparison.Ordinal);
        Assert.Contains("future", Refused(DevelopmentEvidence.Create(credential, agentId, enclaveKey, Nonce, Now.AddHours(1)), credential, agentId), StringComparison.Ordinal);
        Assert.Contains("expected development", Refused(evidence with { Kind = EvidenceKind.Tdx }, credential, agentId), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_altered_byte_of_statement_or_signature_is_refused()
    {
        using var credential = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var agentId = Guid.NewGuid();
        var evidence = DevelopmentEvidence.Create(credential, agentId, EnclavePoint(), Nonce, Now);
        for (var i = 0; i < evidence.Statement.Length; i++)
        {
            var statement = (byte[])evidence.Statement.Clone();
            statement[i] ^= 0x01;
            Refused(evidence with { Statement = statement }, credential, agentId);
        }

        for (var i = 0; i < evidence.Signature.Length; i++)
        {
            var signature = (byte[])evidence.Signature.Clone();
            signature[i] ^= 0x80;
            Refused(evidence with { Signature = signature }, credential, agentId);
        }

        // A statement of another type, correctly signed, is still not evidence.
        var foreign = Encoding.UTF8.GetBytes("{\"type\":\"something-else\"}");
        var signed = evidence with { Statement = foreign, Signature = credential.SignData(foreign, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation) };
        Assert.Contains("understands", Refused(signed, credential, agentId), StringComparison.Ordinal);
    }

    private static string Refused(EnclaveEvidence evidence, ECDsa key, Guid agentId) =>
        Assert.Throws<AttestationException>(() => DevelopmentEvidence.Verify(evidence, key, agentId, Nonce, Now)).Message;

    private static byte[] EnclavePoint()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return Cocoon.Shared.Sealing.Hpke.PublicKeyBytes(key);
    }
}
