using System.Buffers.Binary;
using System.Security.Cryptography.X509Certificates;

namespace Cocoon.Shared.Attestation;

/// <summary>
/// An Intel TDX quote, version 4 (Intel TDX DCAP Quoting Library API, appendix A.3), parsed: the
/// header, the TD report body (measurements and report data), the attestation key's signature over
/// both, and the certification data (the Quoting Enclave's report signed by the platform's PCK key,
/// and the PCK certificate chain). Parsing checks structure only; <see cref="TdxQuoteVerifier"/> checks
/// the signatures and the chain.
/// </summary>
public sealed class TdxQuote
{
    /// <summary>Header (48) plus TD report body (584): the bytes the attestation key signs.</summary>
    public const int SignedLength = HeaderLength + BodyLength;

    private const int HeaderLength = 48;
    private const int BodyLength = 584;
    private const int QeReportLength = 384;
    private const ushort EcdsaP256 = 2;
    private const uint TeeTypeTdx = 0x81;
    private const ushort CertificationQeReport = 6;
    private const ushort CertificationPckChain = 5;

    private TdxQuote() { }

    /// <summary>The quote as received.</summary>
    public required byte[] Raw { get; init; }

    /// <summary>Quote format version (4).</summary>
    public ushort Version { get; private init; }

    /// <summary>Vendor of the Quoting Enclave (16 bytes).</summary>
    public required byte[] QeVendorId { get; init; }

    /// <summary>TCB security version numbers of the TDX module (16 bytes).</summary>
    public required byte[] TeeTcbSvn { get; init; }

    /// <summary>Measurement of the TDX module (48 bytes).</summary>
    public required byte[] MrSeam { get; init; }

    /// <summary>The signer of the TDX module (48 bytes; zero for Intel's own module).</summary>
    public required byte[] MrSignerSeam { get; init; }

    /// <summary>The TDX module's attributes (8 bytes).</summary>
    public required byte[] SeamAttributes { get; init; }

    /// <summary>TD attributes (8 bytes; bit 0 set means a debug TD).</summary>
    public required byte[] TdAttributes { get; init; }

    /// <summary>The measurement of the TD's initial contents (48 bytes): what the allow-list names.</summary>
    public required byte[] MrTd { get; init; }

    /// <summary>Software-defined configuration id (48 bytes).</summary>
    public required byte[] MrConfigId { get; init; }

    /// <summary>Software-defined owner id (48 bytes).</summary>
    public required byte[] MrOwner { get; init; }

    /// <summary>Software-defined owner configuration (48 bytes).</summary>
    public required byte[] MrOwnerConfig { get; init; }

    /// <summary>The runtime measurement registers 0 to 3 (48 bytes each).</summary>
    public required IReadOnlyList<byte[]> Rtmrs { get; init; }

    /// <summary>64 bytes chosen by the TD; Cocoon puts SHA-256 of the enclave key in the first 32.</summary>
    public required byte[] ReportData { get; init; }

    /// <summary>ECDSA P-256 signature (r ‖ s) by the attestation key over the first <see cref="SignedLength"/> bytes.</summary>
    public required byte[] Signature { get; init; }

    /// <summary>The attestation public key (x ‖ y, 64 bytes).</summary>
    public required byte[] AttestationKey { get; init; }

    /// <summary>The Quoting Enclave's SGX report body (384 bytes); its report data commits to the attestation key.</summary>
    public required byte[] QeReport { get; init; }

    /// <summary>ECDSA P-256 signature (r ‖ s) by the PCK key over <see cref="QeReport"/>.</summary>
    public required byte[] QeReportSignature { get; init; }

    /// <summary>QE authentication data, hashed with the attestation key into the QE report.</summary>
    public required byte[] QeAuthData { get; init; }

    /// <summary>The PCK certificate chain as embedded (leaf first).</summary>
    public required X509Certificate2Collection PckChain { get; init; }

    /// <exception cref="AttestationException">Not a TDX v4 ECDSA-P256 quote with an embedded PCK chain.</exception>
    public static TdxQuote Parse(ReadOnlySpan<byte> quote)
    {
        if (quote.Length < SignedLength + 4)
        {
            throw new AttestationException($"the TDX quote is {quote.Length} bytes, shorter than its fixed part.");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(quote);
        var keyType = BinaryPrimitives.ReadUInt16LittleEndian(quote[2..]);
        var teeType = BinaryPrimitives.ReadUInt32LittleEndian(quote[4..]);
        if (version != 4)
        {
            throw new AttestationException($"TDX quote version {version} is not supported (this portal reads version 4).");
        }

        if (keyType != EcdsaP256 || teeType != TeeTypeTdx)
        {
            throw new AttestationException($"the quote is not an ECDSA-P256 TDX quote (key type {keyType}, TEE type 0x{teeType:x}).");
        }

        var signatureLength = BinaryPrimitives.ReadUInt32LittleEndian(quote[SignedLength..]);
        var signatureData = quote[(SignedLength + 4)..];
        if (signatureLength > signatureData.Length || signatureLength < 64 + 64 + 6)
        {
            throw new AttestationException("the TDX quote's signature data length does not fit the quote.");
        }

        // Quote buffers are often padded; padding must be zeros, or something was appended.
        if (signatureData[(int)signatureLength..].ContainsAnyExcept((byte)0))
        {
            throw new AttestationException("the TDX quote has data after its signature.");
        }

        signatureData = signatureData[..(int)signatureLength];
        var type = Certification(signatureData[128..], out var certification);
        if (128 + 6 + certification.Length != signatureData.Length)
        {
            throw new AttestationException("the TDX quote's certification data does not end where its signature data does.");
        }

        if (type != CertificationQeReport)
        {
            throw new AttestationException($"the TDX quote's certification data is of type {type}; this portal needs type 6 (QE report with an embedded PCK chain).");
        }

        if (certification.Length < QeReportLength + 64 + 2)
        {
            throw new AttestationException("the TDX quote's QE report certification data is truncated.");
        }

        var authLength = BinaryPrimitives.ReadUInt16LittleEndian(certification[(QeReportLength + 64)..]);
        var afterAuth = QeReportLength + 64 + 2 + authLength;
        if (afterAuth > certification.Length)
        {
            throw new AttestationException("the TDX quote's QE authentication data does not fit.");
        }

        var innerType = Certification(certification[afterAuth..], out var pem);
        if (afterAuth + 6 + pem.Length != certification.Length)
        {
            throw new AttestationException("the PCK certificate chain does not end where the QE certification data does.");
        }

        if (innerType != CertificationPckChain)
        {
            throw new AttestationException($"the QE report's certification data is of type {innerType}; this portal needs type 5 (an embedded PCK certificate chain).");
        }

        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(System.Text.Encoding.ASCII.GetString(pem).TrimEnd('\0'));
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new AttestationException($"the quote's PCK certificate chain does not parse ({ex.Message}).");
        }

        if (chain.Count < 2)
        {
            throw new AttestationException("the quote's PCK certificate chain is incomplete.");
        }

        var body = quote.Slice(HeaderLength, BodyLength).ToArray();
        byte[] Field(int offset, int length) => body.AsSpan(offset, length).ToArray();
        return new TdxQuote
        {
            Raw = quote.ToArray(),
            Version = version,
            QeVendorId = quote.Slice(12, 16).ToArray(),
            TeeTcbSvn = Field(0, 16),
            MrSeam = Field(16, 48),
            MrSignerSeam = Field(64, 48),
            SeamAttributes = Field(112, 8),
            TdAttributes = Field(120, 8),
            MrTd = Field(136, 48),
            MrConfigId = Field(184, 48),
            MrOwner = Field(232, 48),
            MrOwnerConfig = Field(280, 48),
            Rtmrs = [Field(328, 48), Field(376, 48), Field(424, 48), Field(472, 48)],
            ReportData = Field(520, 64),
            Signature = signatureData[..64].ToArray(),
            AttestationKey = signatureData[64..128].ToArray(),
            QeReport = certification[..QeReportLength].ToArray(),
            QeReportSignature = certification.Slice(QeReportLength, 64).ToArray(),
            QeAuthData = certification.Slice(QeReportLength + 66, authLength).ToArray(),
            PckChain = chain,
        };
    }

    private static ushort Certification(ReadOnlySpan<byte> span, out ReadOnlySpan<byte> data)
    {
        if (span.Length < 6)
        {
            throw new AttestationException("the TDX quote's certification data is truncated.");
        }

        var type = BinaryPrimitives.ReadUInt16LittleEndian(span);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(span[2..]);
        if (size > span.Length - 6)
        {
            throw new AttestationException("the TDX quote's certification data is longer than the quote.");
        }

        data = span.Slice(6, (int)size);
        return type;
    }
}
