using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>
/// What Intel writes into a PCK certificate's SGX extension (OID 1.2.840.113741.1.13.1): the
/// platform's family (FMSPC), its PCE and the TCB the certificate was issued for: 16 CPU SVN
/// components and the PCE's SVN, which TCB info levels are matched against.
/// </summary>
public sealed record PckExtensions(byte[] Fmspc, byte[] PceId, byte[] CpuSvnComponents, int PceSvn)
{
    /// <summary>Intel's SGX extension in PCK certificates.</summary>
    public const string SgxExtensionOid = "1.2.840.113741.1.13.1";
    private const string TcbOid = SgxExtensionOid + ".2";
    private const string PceIdOid = SgxExtensionOid + ".3";
    private const string FmspcOid = SgxExtensionOid + ".4";

    /// <summary>FMSPC as TCB info names it: 12 hex digits, lower-case.</summary>
    public string FmspcHex => Convert.ToHexStringLower(Fmspc);

    /// <exception cref="AttestationException">The certificate has no SGX extension, or it does not parse.</exception>
    public static PckExtensions Read(X509Certificate2 pck)
    {
        ArgumentNullException.ThrowIfNull(pck);
        var extension = pck.Extensions[SgxExtensionOid]
            ?? throw new AttestationException("the PCK certificate carries no SGX extension (FMSPC, TCB), so its platform's TCB cannot be judged.");
        try
        {
            byte[]? fmspc = null, pceId = null;
            byte[]? components = null;
            int? pceSvn = null;
            var outer = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (outer.HasData)
            {
                var entry = outer.ReadSequence();
                var oid = entry.ReadObjectIdentifier();
                switch (oid)
                {
                    case FmspcOid:
                        fmspc = entry.ReadOctetString();
                        break;
                    case PceIdOid:
                        pceId = entry.ReadOctetString();
                        break;
                    case TcbOid:
                        components = new byte[16];
                        var tcb = entry.ReadSequence();
                        while (tcb.HasData)
                        {
                            var component = tcb.ReadSequence();
                            var componentOid = component.ReadObjectIdentifier();
                            var index = componentOid.StartsWith(TcbOid + ".", StringComparison.Ordinal)
                                ? int.Parse(componentOid[(TcbOid.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)
                                : 0;
                            if (index is >= 1 and <= 16)
                            {
                                components[index - 1] = checked((byte)Svn(component));
                            }
                            else if (index == 17)
                            {
                                pceSvn = Svn(component);
                            }
                        }

                        break;
                }
            }

            if (fmspc is not { Length: 6 } || pceId is not { Length: 2 } || components is null || pceSvn is null)
            {
                throw new AttestationException("the PCK certificate's SGX extension lacks its FMSPC, PCE id or TCB.");
            }

            return new PckExtensions(fmspc, pceId, components, pceSvn.Value);
        }
        catch (Exception ex) when (ex is not AttestationException && Malformed.Is(ex))
        {
            throw new AttestationException($"the PCK certificate's SGX extension does not parse ({ex.Message}).");
        }
    }

    private static int Svn(AsnReader component)
    {
        if (!component.TryReadInt32(out var value) || value is < 0 or > 65535)
        {
            throw new AttestationException("an SVN in the PCK certificate is out of range.");
        }

        return value;
    }
}
