using System.Buffers.Binary;

namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>
/// Intel's identity of the TD Quoting Enclave (id "TD_QE", version 2): the signer, product id and
/// masked attributes a genuine QE's report carries, and the status of each QE SVN.
/// </summary>
public sealed class QeIdentity : SignedCollateral
{
    private QeIdentity(byte[] body, string issuerChainPem) : base(body, issuerChainPem, "enclaveIdentity")
    {
        try
        {
            var id = Content.GetProperty("id").GetString();
            var version = Content.GetProperty("version").GetInt32();
            if (id != "TD_QE" || version != 2)
            {
                throw new AttestationException($"the QE identity is {id} version {version}; a TDX quote needs TD_QE version 2.");
            }

            MiscSelect = Hex(Content, "miscselect", 4);
            MiscSelectMask = Hex(Content, "miscselectMask", 4);
            Attributes = Hex(Content, "attributes", 16);
            AttributesMask = Hex(Content, "attributesMask", 16);
            MrSigner = Hex(Content, "mrsigner", 32);
            IsvProdId = Content.GetProperty("isvprodid").GetInt32();
            Levels = SvnLevels(Content.GetProperty("tcbLevels"));
        }
        catch (Exception ex) when (ex is not AttestationException && Malformed.Is(ex))
        {
            throw new AttestationException($"the QE identity does not parse ({ex.Message}).");
        }
    }

    /// <inheritdoc/>
    public override string Name => "QE identity";

    /// <summary>Expected MISCSELECT (4 bytes, report byte order) under <see cref="MiscSelectMask"/>.</summary>
    public byte[] MiscSelect { get; }

    /// <summary>Which MISCSELECT bits are compared.</summary>
    public byte[] MiscSelectMask { get; }

    /// <summary>Expected attributes (16 bytes) under <see cref="AttributesMask"/>.</summary>
    public byte[] Attributes { get; }

    /// <summary>Which attribute bits are compared.</summary>
    public byte[] AttributesMask { get; }

    /// <summary>The QE signer's measurement (32 bytes).</summary>
    public byte[] MrSigner { get; }

    /// <summary>The QE's product id.</summary>
    public int IsvProdId { get; }

    /// <summary>Levels, highest ISVSVN first.</summary>
    public IReadOnlyList<ModuleLevel> Levels { get; }

    /// <exception cref="AttestationException">Not a TD_QE identity document, or its issuer chain does not parse.</exception>
    public static QeIdentity Parse(byte[] body, string issuerChainPem)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new QeIdentity(body, issuerChainPem ?? "");
    }

    /// <summary>
    /// Checks the Quoting Enclave's report (384 bytes) against this identity and returns the level its
    /// ISVSVN falls in; null when it is below every level.
    /// </summary>
    /// <exception cref="AttestationException">The report is not of the enclave this identity describes.</exception>
    public ModuleLevel? Match(ReadOnlySpan<byte> qeReport)
    {
        if (!Malformed.MatchesMasked(qeReport.Slice(16, 4), MiscSelectMask, MiscSelect) || !Malformed.MatchesMasked(qeReport.Slice(48, 16), AttributesMask, Attributes))
        {
            throw new AttestationException("the Quoting Enclave's MISCSELECT or attributes are not those of Intel's TD Quoting Enclave.");
        }

        if (!qeReport.Slice(128, 32).SequenceEqual(MrSigner) || BinaryPrimitives.ReadUInt16LittleEndian(qeReport[256..]) != IsvProdId)
        {
            throw new AttestationException("the Quoting Enclave is not signed by Intel's TD QE signer, or has another product id.");
        }

        var svn = BinaryPrimitives.ReadUInt16LittleEndian(qeReport[258..]);
        return Levels.FirstOrDefault(l => svn >= l.IsvSvn);
    }
}
