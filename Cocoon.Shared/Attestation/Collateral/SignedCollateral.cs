using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>
/// A JSON document Intel signs with its TCB Signing key (TCB info, QE identity): <c>{"name": {…}, "signature": "r‖s hex"}</c>,
/// the signature over the raw bytes of the named member exactly as served, and the issuer chain
/// (TCB Signing, then the root) PCS sends in a header.
/// </summary>
public abstract class SignedCollateral
{
    private readonly byte[] _signed;
    private readonly byte[] _signature;

    private protected SignedCollateral(byte[] body, string issuerChainPem, string member)
    {
        Body = body;
        IssuerChainPem = issuerChainPem;
        try
        {
            (_signed, var signatureHex) = Split(body, member);
            _signature = signatureHex is { Length: 128 } ? Convert.FromHexString(signatureHex) : throw new AttestationException($"the {member} signature is not 64 bytes of hex.");
            using var document = JsonDocument.Parse(_signed);
            Content = document.RootElement.Clone();
            IssueDate = Date(Content, "issueDate");
            NextUpdate = Date(Content, "nextUpdate");
            EvaluationDataNumber = Content.GetProperty("tcbEvaluationDataNumber").GetInt32();
        }
        catch (Exception ex) when (ex is not AttestationException && Malformed.Is(ex))
        {
            throw new AttestationException($"the {member} document does not parse ({ex.Message}).");
        }

        IssuerChain = CertificateChains.ImportPem(issuerChainPem, $"the {member} issuer chain");
        if (IssuerChain.Count == 0)
        {
            throw new AttestationException($"the {member} document came without its issuer chain (TCB Signing certificate).");
        }
    }

    /// <summary>The document as served.</summary>
    public byte[] Body { get; }

    /// <summary>The issuer chain as PEM (TCB Signing first).</summary>
    public string IssuerChainPem { get; }

    /// <summary>The issuer chain, parsed.</summary>
    public X509Certificate2Collection IssuerChain { get; }

    /// <summary>The signed member, parsed.</summary>
    public JsonElement Content { get; }

    /// <summary>When Intel issued it.</summary>
    public DateTimeOffset IssueDate { get; }

    /// <summary>When Intel will have issued the next one; past it the document is stale.</summary>
    public DateTimeOffset NextUpdate { get; }

    /// <summary>Intel's TCB evaluation data number (TCB info and QE identity of one evaluation share it).</summary>
    public int EvaluationDataNumber { get; }

    /// <summary>The TCB Signing certificate.</summary>
    public X509Certificate2 Signer => IssuerChain[0];

    /// <summary>
    /// Checks that the signer chains to <paramref name="root"/> at <paramref name="now"/>, is a TCB
    /// signing certificate, and signed these bytes.
    /// </summary>
    /// <exception cref="AttestationException">Any of that fails.</exception>
    public void VerifySignature(X509Certificate2 root, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(root);
        CertificateChains.Verify(Signer, IssuerChain, root, now, $"the {Name} signing certificate");
        if (!Signer.GetNameInfo(X509NameType.SimpleName, false).Contains("TCB Signing", StringComparison.Ordinal))
        {
            throw new AttestationException($"the {Name} is signed by {Signer.Subject}, not by a TCB Signing certificate.");
        }

        bool verified;
        try
        {
            using var key = Signer.GetECDsaPublicKey() ?? throw new AttestationException($"the {Name} signing certificate holds no ECDSA key.");
            verified = key.VerifyData(_signed, _signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            verified = false;
        }

        if (!verified)
        {
            throw new AttestationException($"the {Name}'s signature does not verify: it was altered or signed by another key.");
        }
    }

    /// <summary>What the document is, for messages ("TCB info").</summary>
    public abstract string Name { get; }

    private protected static byte[] Hex(JsonElement element, string property, int bytes)
    {
        var text = element.GetProperty(property).GetString() ?? "";
        return text.Length == bytes * 2 ? Convert.FromHexString(text) : throw new FormatException($"{property} is not {bytes} bytes of hex.");
    }

    private protected static DateTimeOffset Date(JsonElement element, string property) =>
        DateTimeOffset.Parse(element.GetProperty(property).GetString() ?? "", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private protected static TcbStatus Status(JsonElement level) =>
        Enum.TryParse<TcbStatus>(level.GetProperty("tcbStatus").GetString(), ignoreCase: false, out var status) && status != TcbStatus.TcbNotSupported
            ? status
            : throw new FormatException($"tcbStatus '{level.GetProperty("tcbStatus").GetString()}' is not one Intel defines.");

    /// <summary>Levels judged by one SVN (TDX module identities, the QE identity), highest first.</summary>
    private protected static ModuleLevel[] SvnLevels(JsonElement levels) =>
        [.. levels.EnumerateArray().Select(l => new ModuleLevel(l.GetProperty("tcb").GetProperty("isvsvn").GetInt32(), Status(l), Advisories(l))).OrderByDescending(l => l.IsvSvn)];

    private protected static string[] Advisories(JsonElement level) =>
        level.TryGetProperty("advisoryIDs", out var ids) && ids.ValueKind == JsonValueKind.Array ? [.. ids.EnumerateArray().Select(i => i.GetString() ?? "")] : [];

    /// <summary>The raw bytes of the top-level <paramref name="member"/> object and the signature's text.</summary>
    private static (byte[] Signed, string? Signature) Split(byte[] body, string member)
    {
        var reader = new Utf8JsonReader(body);
        byte[]? signed = null;
        string? signature = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("expected a JSON object.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == member && reader.TokenType == JsonTokenType.StartObject)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                signed = body[start..(int)reader.BytesConsumed];
            }
            else if (name == "signature" && reader.TokenType == JsonTokenType.String)
            {
                signature = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return (signed ?? throw new JsonException($"no '{member}' object."), signature);
    }
}
