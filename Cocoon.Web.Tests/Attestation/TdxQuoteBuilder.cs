using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Cocoon.Shared.Attestation.Collateral;

namespace Cocoon.Web.Tests.Attestation;

/// <summary>
/// A test Intel: a root, a PCK Platform CA, one platform's PCK certificate (with the SGX extension:
/// FMSPC, PCE id and the TCB it was issued for) and a TCB Signing certificate. It builds TDX v4 quotes
/// with the real layout, and the collateral that judges them (TCB info, QE identity, CRLs), so the
/// verifier's positive path and every refusal can be tested with values of the test's choosing. The
/// real quotes and collateral in Fixtures cover Intel's own chain and data.
/// </summary>
internal sealed class TdxQuoteBuilder : IDisposable
{
    public const string FmspcHex = "00906ed50000";
    public static readonly byte[] QeMrSigner = Convert.FromHexString("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
    public static readonly DateTimeOffset NotBefore = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const string Sgx = PckExtensions.SgxExtensionOid;
    private static readonly JsonSerializerOptions Compact = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _pckKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _attestationKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _pck;
    private readonly X509Certificate2 _signer;

    /// <param name="cpuSvn">Each of the platform's 16 SGX TCB components.</param>
    /// <param name="pceSvn">The platform's PCE SVN.</param>
    public TdxQuoteBuilder(byte cpuSvn = 5, int pceSvn = 11)
    {
        Root = Authority("CN=Test SGX Root CA", _rootKey, null, 1);
        _ca = Authority("CN=Test SGX PCK Platform CA", _caKey, (Root, _rootKey), 0);

        var pckRequest = new CertificateRequest("CN=Test SGX PCK Certificate", _pckKey, HashAlgorithmName.SHA256);
        pckRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        pckRequest.CertificateExtensions.Add(new X509Extension(Sgx, SgxExtension(cpuSvn, pceSvn), false));
        _pck = pckRequest.Create(_ca, NotBefore, NotBefore.AddYears(10), [2, 7]);

        var signerRequest = new CertificateRequest("CN=Test SGX TCB Signing", _signingKey, HashAlgorithmName.SHA256);
        signerRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        _signer = signerRequest.Create(Root, NotBefore, NotBefore.AddYears(10), [3]);
    }

    public X509Certificate2 Root { get; }

    /// <summary>The TCB Signing certificate, then the root: the issuer chain PCS sends with TCB info and QE identity.</summary>
    public string TcbChainPem => _signer.ExportCertificatePem() + "\n" + Root.ExportCertificatePem() + "\n";

    /// <summary>The PCK CA, then the root: the issuer chain of the PCK CRL.</summary>
    public string PckCrlChainPem => _ca.ExportCertificatePem() + "\n" + Root.ExportCertificatePem() + "\n";

    /// <summary>A quote for <paramref name="reportData"/> with <paramref name="mrtd"/> (48 bytes) and, unless given, zero RTMRs.</summary>
    /// <param name="teeTcbSvn">The TD's TEE_TCB_SVN (16 bytes; default <see cref="DefaultTeeTcbSvn"/>).</param>
    /// <param name="qeSvn">The Quoting Enclave's ISVSVN.</param>
    public byte[] Build(byte[] reportData, byte[] mrtd, bool debug = false, byte[][]? rtmrs = null, byte[]? teeTcbSvn = null, int qeSvn = 8, byte[]? qeMrSigner = null)
    {
        var header = new byte[48];
        BinaryPrimitives.WriteUInt16LittleEndian(header, 4);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 0x81);
        var body = new byte[584];
        (teeTcbSvn ?? DefaultTeeTcbSvn).CopyTo(body, 0);
        body[120] = debug ? (byte)1 : (byte)0;
        mrtd.CopyTo(body, 136);
        for (var i = 0; i < 4 && rtmrs is not null; i++)
        {
            rtmrs[i].CopyTo(body, 328 + (48 * i));
        }

        reportData.CopyTo(body, 520);
        byte[] signed = [.. header, .. body];
        var signature = _attestationKey.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var point = _attestationKey.ExportParameters(false).Q;
        byte[] attestationKey = [.. point.X!, .. point.Y!];

        var auth = RandomNumberGenerator.GetBytes(32);
        var qeReport = new byte[384];
        qeReport[48] = 0x11; // attributes: INIT | MODE64BIT, as Intel's QE has them
        (qeMrSigner ?? QeMrSigner).CopyTo(qeReport, 128);
        BinaryPrimitives.WriteUInt16LittleEndian(qeReport.AsSpan(256), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(qeReport.AsSpan(258), (ushort)qeSvn);
        SHA256.HashData([.. attestationKey, .. auth]).CopyTo(qeReport, 320);
        var qeSignature = _pckKey.SignData(qeReport, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var pem = Encoding.ASCII.GetBytes(_pck.ExportCertificatePem() + "\n" + _ca.ExportCertificatePem() + "\n" + Root.ExportCertificatePem() + "\n");
        byte[] inner = [.. Certification(5, pem)];
        byte[] qeCertification = [.. qeReport, .. qeSignature, .. U16(auth.Length), .. auth, .. inner];
        byte[] signatureData = [.. signature, .. attestationKey, .. Certification(6, qeCertification)];
        return [.. signed, .. U32(signatureData.Length), .. signatureData];
    }

    /// <summary>3 in every TDX component but byte 1, the TDX module's major version, which is 0 (judged by the TCB levels alone).</summary>
    public static byte[] DefaultTeeTcbSvn => [3, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3];

    /// <summary>16 SVN bytes all equal to <paramref name="svn"/>.</summary>
    public static byte[] Svns(byte svn) => [.. Enumerable.Repeat(svn, 16)];

    /// <summary>A TCB info document (PCS's body) with the given levels, highest first, signed by the TCB Signing key.</summary>
    public byte[] TcbInfo(DateTimeOffset issued, IEnumerable<Level> levels, int evaluation = 17, string fmspc = FmspcHex, bool tamper = false)
    {
        var info = new
        {
            id = "TDX",
            version = 3,
            issueDate = Date(issued),
            nextUpdate = Date(issued.AddDays(30)),
            fmspc = fmspc.ToUpperInvariant(),
            pceId = "0000",
            tcbType = 0,
            tcbEvaluationDataNumber = evaluation,
            tdxModule = new { mrsigner = new string('0', 96), attributes = "0000000000000000", attributesMask = "FFFFFFFFFFFFFFFF" },
            tdxModuleIdentities = new[]
            {
                new
                {
                    id = "TDX_01", mrsigner = new string('0', 96), attributes = "0000000000000000", attributesMask = "FFFFFFFFFFFFFFFF",
                    tcbLevels = new object[]
                    {
                        new { tcb = new { isvsvn = 4 }, tcbDate = "2024-03-13T00:00:00Z", tcbStatus = "UpToDate" },
                        new { tcb = new { isvsvn = 2 }, tcbDate = "2023-08-09T00:00:00Z", tcbStatus = "OutOfDate" },
                    },
                },
            },
            tcbLevels = levels.Select(l => new
            {
                tcb = new
                {
                    sgxtcbcomponents = Enumerable.Repeat(new { svn = (int)l.Sgx }, 16),
                    pcesvn = l.PceSvn,
                    // Component 1 is the TDX module's major version, 0 in every level as in Intel's data.
                    tdxtcbcomponents = Enumerable.Range(0, 16).Select(i => new { svn = i == 1 ? 0 : (int)l.Tdx }),
                },
                tcbDate = "2024-03-13T00:00:00Z",
                tcbStatus = l.Status,
                advisoryIDs = l.Advisories,
            }),
        };
        return Signed("tcbInfo", JsonSerializer.SerializeToUtf8Bytes(info, Compact), tamper);
    }

    /// <summary>The TD QE identity: ISVSVN 8 and up is <paramref name="currentStatus"/> (UpToDate unless given), 4 to 7 OutOfDate.</summary>
    public byte[] QeIdentity(DateTimeOffset issued, int evaluation = 17, string currentStatus = "UpToDate")
    {
        var identity = new
        {
            id = "TD_QE",
            version = 2,
            issueDate = Date(issued),
            nextUpdate = Date(issued.AddDays(30)),
            tcbEvaluationDataNumber = evaluation,
            miscselect = "00000000",
            miscselectMask = "FFFFFFFF",
            attributes = "11000000000000000000000000000000",
            attributesMask = "FBFFFFFFFFFFFFFF0000000000000000",
            mrsigner = Convert.ToHexString(QeMrSigner),
            isvprodid = 2,
            tcbLevels = new object[]
            {
                new { tcb = new { isvsvn = 8 }, tcbDate = "2024-03-13T00:00:00Z", tcbStatus = currentStatus },
                new { tcb = new { isvsvn = 4 }, tcbDate = "2023-08-09T00:00:00Z", tcbStatus = "OutOfDate", advisoryIDs = new[] { "INTEL-SA-00837" } },
            },
        };
        return Signed("enclaveIdentity", JsonSerializer.SerializeToUtf8Bytes(identity, Compact), tamper: false);
    }

    /// <summary>The PCK CA's CRL (DER), revoking the platform's PCK certificate when asked.</summary>
    public byte[] PckCrl(DateTimeOffset thisUpdate, bool revokePck = false) => Crl(_ca, thisUpdate, revokePck ? _pck : null);

    /// <summary>The root's CRL (DER), revoking the TCB Signing certificate when asked.</summary>
    public byte[] RootCrl(DateTimeOffset thisUpdate, bool revokeSigner = false) => Crl(Root, thisUpdate, revokeSigner ? _signer : null);

    /// <summary>All four documents, current at <paramref name="issued"/>, with one UpToDate level the default platform reaches.</summary>
    public TdxCollateral Collateral(DateTimeOffset issued, IEnumerable<Level>? levels = null) => new(
        Cocoon.Shared.Attestation.Collateral.TcbInfo.Parse(TcbInfo(issued, levels ?? [new Level(5, 11, 3, "UpToDate")]), TcbChainPem),
        Cocoon.Shared.Attestation.Collateral.QeIdentity.Parse(QeIdentity(issued), TcbChainPem),
        RevocationList.Parse(PckCrl(issued)),
        RevocationList.Parse(RootCrl(issued)));

    private byte[] Signed(string member, byte[] content, bool tamper)
    {
        var signature = _signingKey.SignData(content, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        if (tamper)
        {
            content = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(content).Replace("\"OutOfDate\"", "\"UpToDate\"", StringComparison.Ordinal));
        }

        return [.. Encoding.UTF8.GetBytes($"{{\"{member}\":"), .. content, .. Encoding.UTF8.GetBytes($",\"signature\":\"{Convert.ToHexStringLower(signature)}\"}}")];
    }

    private static byte[] Crl(X509Certificate2 issuer, DateTimeOffset thisUpdate, X509Certificate2? revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        builder.AddEntry([0x4c, 0x01, 0x7e], thisUpdate.AddDays(-1));
        if (revoked is not null)
        {
            builder.AddEntry(revoked, thisUpdate.AddDays(-1));
        }

        return builder.Build(issuer, BigInteger.One, thisUpdate.AddDays(30), HashAlgorithmName.SHA256, thisUpdate: thisUpdate);
    }

    private static X509Certificate2 Authority(string name, ECDsa key, (X509Certificate2 Certificate, ECDsa Key)? parent, int pathLength)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, pathLength, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        if (parent is null)
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(ski));
            return request.CreateSelfSigned(NotBefore, NotBefore.AddYears(30));
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(parent.Value.Certificate, true, false));
        return request.Create(parent.Value.Certificate, NotBefore, NotBefore.AddYears(20), [1]).CopyWithPrivateKey(key);
    }

    private static byte[] SgxExtension(byte cpuSvn, int pceSvn)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            Entry(writer, ".1", w => w.WriteOctetString(new byte[16]));
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Sgx + ".2");
                using (writer.PushSequence())
                {
                    for (var i = 1; i <= 16; i++)
                    {
                        Entry(writer, $".2.{i}", w => w.WriteInteger(cpuSvn));
                    }

                    Entry(writer, ".2.17", w => w.WriteInteger(pceSvn));
                    Entry(writer, ".2.18", w => w.WriteOctetString(Svns(cpuSvn)));
                }
            }

            Entry(writer, ".3", w => w.WriteOctetString(new byte[2]));
            Entry(writer, ".4", w => w.WriteOctetString(Convert.FromHexString(FmspcHex)));
            Entry(writer, ".5", w => w.WriteEnumeratedValue(SgxType.Standard));
        }

        return writer.Encode();

        static void Entry(AsnWriter writer, string oid, Action<AsnWriter> value)
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Sgx + oid);
                value(writer);
            }
        }
    }

    private static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] Certification(ushort type, byte[] data) => [.. U16(type), .. U32(data.Length), .. data];

    private static byte[] U16(int value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        return b;
    }

    private static byte[] U32(int value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)value);
        return b;
    }

    public void Dispose()
    {
        _rootKey.Dispose();
        _caKey.Dispose();
        _pckKey.Dispose();
        _signingKey.Dispose();
        _attestationKey.Dispose();
        _ca.Dispose();
        _pck.Dispose();
        _signer.Dispose();
        Root.Dispose();
    }

    private enum SgxType
    {
        Standard,
    }

    /// <summary>A TCB level: every SGX component at <paramref name="Sgx"/>, PCESVN, every TDX component but the module's major version at <paramref name="Tdx"/>.</summary>
    public sealed record Level(byte Sgx, int PceSvn, byte Tdx, string Status, string[]? Advisories = null);
}
