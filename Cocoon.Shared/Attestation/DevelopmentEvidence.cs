using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cocoon.Shared.Attestation;

/// <summary>
/// Development evidence: "agent A holds enclave key K, answering the portal's nonce N at T", signed
/// with the key the agent was paired with. It ties the enclave key to one paired agent and one
/// connection (so the portal cannot slip in a key of its own without also holding that agent's
/// credential, and a copied statement is refused), but nothing in it is hardware-backed.
/// </summary>
public static class DevelopmentEvidence
{
    /// <summary>The statement's type tag; a statement with any other is refused.</summary>
    public const string Type = "cocoon-development-evidence/v2";

    /// <summary>How far an issue time may lie in the future (clock skew between agent and portal).</summary>
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(5);

    /// <summary>Makes the evidence for <paramref name="enclavePublicKey"/>, signed with the agent's credential key.</summary>
    public static EnclaveEvidence Create(ECDsa credentialKey, Guid agentId, byte[] enclavePublicKey, ReadOnlySpan<byte> nonce, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(credentialKey);
        ArgumentNullException.ThrowIfNull(enclavePublicKey);
        var statement = JsonSerializer.SerializeToUtf8Bytes(
            new Statement(Type, agentId, Convert.ToBase64String(enclavePublicKey), Convert.ToBase64String(nonce), now.ToUnixTimeSeconds()),
            StatementJsonContext.Default.Statement);
        return new EnclaveEvidence
        {
            Kind = EvidenceKind.Development,
            PublicKey = enclavePublicKey,
            Statement = statement,
            Signature = credentialKey.SignData(statement, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        };
    }

    /// <summary>
    /// Checks the signature with the agent's credential public key and that the statement names this
    /// agent, this enclave key and the nonce the portal drew for this connection. Returns when it was issued.
    /// </summary>
    /// <exception cref="AttestationException">The evidence does not hold.</exception>
    public static DateTimeOffset Verify(EnclaveEvidence evidence, ECDsa credentialPublicKey, Guid agentId, ReadOnlySpan<byte> nonce, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(credentialPublicKey);
        if (evidence.Kind != EvidenceKind.Development)
        {
            throw new AttestationException($"expected development evidence, got {evidence.Kind}.");
        }

        if (evidence.Signature is not { Length: 64 } || evidence.Statement is null
            || !credentialPublicKey.VerifyData(evidence.Statement, evidence.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new AttestationException("the development evidence is not signed with this agent's pairing key.");
        }

        Statement? statement;
        try
        {
            statement = JsonSerializer.Deserialize(evidence.Statement, StatementJsonContext.Default.Statement);
        }
        catch (JsonException)
        {
            statement = null;
        }

        if (statement is null || statement.Type != Type)
        {
            throw new AttestationException("the development evidence statement is not one this portal understands.");
        }

        if (statement.AgentId != agentId)
        {
            throw new AttestationException($"the development evidence names agent {statement.AgentId}, not {agentId}.");
        }

        if (evidence.PublicKey is null || statement.EnclaveKey != Convert.ToBase64String(evidence.PublicKey))
        {
            throw new AttestationException("the development evidence vouches for another enclave key.");
        }

        if (statement.Nonce != Convert.ToBase64String(nonce))
        {
            throw new AttestationException("the development evidence answers another connection's nonce: it was made for another registration and replayed.");
        }

        var issued = DateTimeOffset.FromUnixTimeSeconds(statement.IssuedAt);
        if (issued > now + AllowedSkew)
        {
            throw new AttestationException("the development evidence was issued in the future; check the agent's clock.");
        }

        return issued;
    }

    internal sealed record Statement(
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("agent_id")] Guid AgentId,
        [property: JsonPropertyName("enclave_key")] string EnclaveKey,
        [property: JsonPropertyName("nonce")] string Nonce,
        [property: JsonPropertyName("issued_at")] long IssuedAt);
}

[JsonSerializable(typeof(DevelopmentEvidence.Statement))]
internal sealed partial class StatementJsonContext : JsonSerializerContext;
