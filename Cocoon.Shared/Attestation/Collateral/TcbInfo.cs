using System.Text.Json;

namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>
/// Intel's TCB info for one TDX platform family (version 3, id "TDX"): the TDX module's signer, the
/// TDX module identities by major version, and the TCB levels a platform's SVNs are matched against,
/// newest first.
/// </summary>
public sealed class TcbInfo : SignedCollateral
{
    private TcbInfo(byte[] body, string issuerChainPem) : base(body, issuerChainPem, "tcbInfo")
    {
        try
        {
            var id = Content.GetProperty("id").GetString();
            var version = Content.GetProperty("version").GetInt32();
            if (id != "TDX" || version < 3)
            {
                throw new AttestationException($"the TCB info is {id} version {version}; a TDX quote needs TDX TCB info, version 3.");
            }

            if (Content.GetProperty("tcbType").GetInt32() != 0)
            {
                throw new AttestationException("the TCB info's tcbType is not 0, the only type Intel defines.");
            }

            Fmspc = Convert.ToHexStringLower(Hex(Content, "fmspc", 6));
            PceId = Hex(Content, "pceId", 2);
            Module = ReadModule(Content.GetProperty("tdxModule"), "");
            ModuleIdentities = Content.TryGetProperty("tdxModuleIdentities", out var identities)
                ? [.. identities.EnumerateArray().Select(i => ReadModule(i, i.GetProperty("id").GetString() ?? ""))]
                : [];
            Levels = [.. Content.GetProperty("tcbLevels").EnumerateArray().Select(ReadLevel).OrderByDescending(l => l, LevelOrder.Instance)];
            if (Levels.Count == 0)
            {
                throw new AttestationException("the TCB info lists no TCB levels.");
            }
        }
        catch (Exception ex) when (ex is not AttestationException && Malformed.Is(ex))
        {
            throw new AttestationException($"the TCB info does not parse ({ex.Message}).");
        }
    }

    /// <inheritdoc/>
    public override string Name => "TCB info";

    /// <summary>12 lower-case hex digits.</summary>
    public string Fmspc { get; }

    /// <summary>The PCE id (2 bytes) the platform's PCK certificate must carry.</summary>
    public byte[] PceId { get; }

    /// <summary>The TDX module's expected signer and attributes when the quote's module major version is 0.</summary>
    public TdxModuleIdentity Module { get; }

    /// <summary>The TDX module identities by id ("TDX_01", "TDX_03"), with their own TCB levels.</summary>
    public IReadOnlyList<TdxModuleIdentity> ModuleIdentities { get; }

    /// <summary>Levels, highest first.</summary>
    public IReadOnlyList<TcbLevel> Levels { get; }

    /// <exception cref="AttestationException">Not a TDX TCB info document, or its issuer chain does not parse.</exception>
    public static TcbInfo Parse(byte[] body, string issuerChainPem)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new TcbInfo(body, issuerChainPem ?? "");
    }

    private static TdxModuleIdentity ReadModule(JsonElement module, string id) => new(
        id,
        Hex(module, "mrsigner", 48),
        Hex(module, "attributes", 8),
        Hex(module, "attributesMask", 8),
        module.TryGetProperty("tcbLevels", out var levels)
            ? SvnLevels(levels)
            : []);

    private static TcbLevel ReadLevel(JsonElement level)
    {
        var tcb = level.GetProperty("tcb");
        static byte[] Components(JsonElement components)
        {
            var svns = components.EnumerateArray().Select(c => checked((byte)c.GetProperty("svn").GetInt32())).ToArray();
            return svns.Length == 16 ? svns : throw new FormatException("a TCB level does not list 16 components.");
        }

        return new TcbLevel(
            Components(tcb.GetProperty("sgxtcbcomponents")),
            tcb.GetProperty("pcesvn").GetInt32(),
            Components(tcb.GetProperty("tdxtcbcomponents")),
            Date(level, "tcbDate"),
            Status(level),
            Advisories(level));
    }

    /// <summary>QVL's order: SGX components as a byte string, then PCESVN, then TDX components.</summary>
    private sealed class LevelOrder : IComparer<TcbLevel>
    {
        public static readonly LevelOrder Instance = new();

        public int Compare(TcbLevel? x, TcbLevel? y)
        {
            ArgumentNullException.ThrowIfNull(x);
            ArgumentNullException.ThrowIfNull(y);
            var c = x.SgxComponents.AsSpan().SequenceCompareTo(y.SgxComponents);
            if (c == 0)
            {
                c = x.PceSvn.CompareTo(y.PceSvn);
            }

            return c != 0 ? c : x.TdxComponents.AsSpan().SequenceCompareTo(y.TdxComponents);
        }
    }
}

/// <summary>One TCB level: the SVNs a platform must reach for the level's status to be its own.</summary>
public sealed record TcbLevel(byte[] SgxComponents, int PceSvn, byte[] TdxComponents, DateTimeOffset TcbDate, TcbStatus Status, IReadOnlyList<string> AdvisoryIds);

/// <summary>A TDX module's expected signer (MRSIGNERSEAM) and attributes, and its TCB levels by SVN.</summary>
public sealed record TdxModuleIdentity(string Id, byte[] MrSigner, byte[] Attributes, byte[] AttributesMask, IReadOnlyList<ModuleLevel> Levels);

/// <summary>A TDX module TCB level: the module SVN it starts at.</summary>
public sealed record ModuleLevel(int IsvSvn, TcbStatus Status, IReadOnlyList<string> AdvisoryIds);
