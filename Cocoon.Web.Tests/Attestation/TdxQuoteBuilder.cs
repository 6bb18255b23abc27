using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Cocoon.Shared.Attestation;

namespace Cocoon.Web.Tests.Attestation;

/// <summary>
/// Builds TDX v4 quotes with the real layout signed by a test PCK hierarchy (root → platform CA →
/// PCK leaf), so the verifier's positive path, the key binding and the allow-list can be tested with
/// report data and measurements of the test's choosing. The real quote fixture covers Intel's chain.
/// </summary>
internal sealed class TdxQuoteBuilder : IDisposable
{
    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _pckKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _attestationKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _pck;

    public TdxQuoteBuilder()
    {
        var notBefore = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var rootRequest = new CertificateRequest("CN=Test SGX Root CA", _rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Root = rootRequest.CreateSelfSigned(notBefore, notBefore.AddYears(30));

        var caRequest = new CertificateRequest("CN=Test SGX PCK Platform CA", _caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _ca = caRequest.Create(Root, notBefore, notBefore.AddYears(20), [1]).CopyWithPrivateKey(_caKey);

        var pckRequest = new CertificateRequest("CN=Test SGX PCK Certificate", _pckKey, HashAlgorithmName.SHA256);
        pckRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        _pck = pckRequest.Create(_ca, notBefore, notBefore.AddYears(10), [2]);
    }

    public X509Certificate2 Root { get; }

    /// <summary>A quote for <paramref name="reportData"/> with <paramref name="mrtd"/> (48 bytes).</summary>
    public byte[] Build(byte[] reportData, byte[] mrtd, bool debug = false)
    {
        var header = new byte[48];
        BinaryPrimitives.WriteUInt16LittleEndian(header, 4);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 0x81);
        var body = new byte[584];
        body[120] = debug ? (byte)1 : (byte)0;
        mrtd.CopyTo(body, 136);
        reportData.CopyTo(body, 520);
        byte[] signed = [.. header, .. body];
        var signature = _attestationKey.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var point = _attestationKey.ExportParameters(false).Q;
        byte[] attestationKey = [.. point.X!, .. point.Y!];

        var auth = RandomNumberGenerator.GetBytes(32);
        var qeReport = new byte[384];
        SHA256.HashData([.. attestationKey, .. auth]).CopyTo(qeReport, 320);
        var qeSignature = _pckKey.SignData(qeReport, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var pem = Encoding.ASCII.GetBytes(_pck.ExportCertificatePem() + "\n" + _ca.ExportCertificatePem() + "\n" + Root.ExportCertificatePem() + "\n");
        byte[] inner = [.. Certification(5, pem)];
        byte[] qeCertification = [.. qeReport, .. qeSignature, .. U16(auth.Length), .. auth, .. inner];
        byte[] signatureData = [.. signature, .. attestationKey, .. Certification(6, qeCertification)];
        return [.. signed, .. U32(signatureData.Length), .. signatureData];
    }

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
        _attestationKey.Dispose();
        _ca.Dispose();
        _pck.Dispose();
        Root.Dispose();
    }
}
