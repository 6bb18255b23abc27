using System.Buffers.Binary;
using System.Globalization;

namespace Cocoon.Shared.Ton;

/// <summary>
/// A TON account address: a workchain and the 256-bit hash of the account's initial state (TEP-2).
/// Stored in raw form (<c>0:hex</c>); shown user-friendly (36 bytes in base64: flags, workchain,
/// hash, CRC16-XMODEM).
/// </summary>
public readonly record struct TonAddress
{
    private const byte BounceableTag = 0x11;
    private const byte NonBounceableTag = 0x51;
    private const byte TestnetFlag = 0x80;

    private readonly byte[]? _hash;

    /// <summary>Creates an address from a workchain and a 32-byte account id.</summary>
    public TonAddress(int workchain, ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 32)
        {
            throw new TonFormatException("bad_address", "An address hash is 32 bytes.");
        }

        Workchain = workchain;
        _hash = hash.ToArray();
    }

    /// <summary>The workchain: 0 for the basechain, -1 for the masterchain.</summary>
    public int Workchain { get; }

    /// <summary>The 32-byte account id (the hash of the initial state).</summary>
    public ReadOnlySpan<byte> Hash => _hash ?? new byte[32];

    /// <summary>The raw form, <c>workchain:64 lowercase hex digits</c>.</summary>
    public string ToRaw() => $"{Workchain.ToString(CultureInfo.InvariantCulture)}:{Convert.ToHexStringLower(Hash)}";

    /// <inheritdoc/>
    public override string ToString() => ToRaw();

    /// <summary>The user-friendly form (48 characters).</summary>
    public string ToFriendly(bool bounceable = false, bool testnet = false, bool urlSafe = true)
    {
        Span<byte> bytes = stackalloc byte[36];
        bytes[0] = (byte)((bounceable ? BounceableTag : NonBounceableTag) | (testnet ? TestnetFlag : 0));
        bytes[1] = unchecked((byte)(sbyte)Workchain);
        Hash.CopyTo(bytes[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[34..], TonChecksums.Crc16Xmodem(bytes[..34]));
        var text = Convert.ToBase64String(bytes);
        return urlSafe ? text.Replace('+', '-').Replace('/', '_') : text;
    }

    /// <summary>Two addresses are equal when workchain and hash are.</summary>
    public bool Equals(TonAddress other) => Workchain == other.Workchain && Hash.SequenceEqual(other.Hash);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Workchain, BinaryPrimitives.ReadInt32LittleEndian(Hash));

    /// <summary>Parses the raw form (<c>0:hex</c>).</summary>
    public static TonAddress ParseRaw(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || text.Length - colon - 1 != 64
            || !int.TryParse(text.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var workchain)
            || workchain is < sbyte.MinValue or > sbyte.MaxValue)
        {
            throw new TonFormatException("bad_address", "A raw address is 'workchain:64 hex digits', such as 0:2cf5…22e3.");
        }

        try
        {
            return new TonAddress(workchain, Convert.FromHexString(text.AsSpan(colon + 1)));
        }
        catch (FormatException)
        {
            throw new TonFormatException("bad_address", "The hash of a raw address must be 64 hex digits.");
        }
    }

    /// <summary>Parses the user-friendly form in either base64 alphabet and returns its flags too.</summary>
    public static TonAddress ParseFriendly(string text, out bool bounceable, out bool testnet)
    {
        ArgumentNullException.ThrowIfNull(text);
        Span<byte> bytes = stackalloc byte[36];
        if (text.Length != 48
            || !Convert.TryFromBase64String(text.Replace('-', '+').Replace('_', '/'), bytes, out var written)
            || written != 36)
        {
            throw new TonFormatException("bad_address", "A user-friendly address is 48 base64 characters.");
        }

        if (TonChecksums.Crc16Xmodem(bytes[..34]) != BinaryPrimitives.ReadUInt16BigEndian(bytes[34..]))
        {
            throw new TonFormatException("bad_address", "The address checksum does not match: it was mistyped or cut.");
        }

        testnet = (bytes[0] & TestnetFlag) != 0;
        var tag = (byte)(bytes[0] & ~TestnetFlag);
        if (tag is not (BounceableTag or NonBounceableTag))
        {
            throw new TonFormatException("bad_address", "The address has an unknown flags byte.");
        }

        bounceable = tag == BounceableTag;
        return new TonAddress((sbyte)bytes[1], bytes[2..34]);
    }

    /// <summary>Parses either form.</summary>
    public static TonAddress Parse(string text) =>
        text is not null && text.Contains(':', StringComparison.Ordinal) ? ParseRaw(text) : ParseFriendly(text!, out _, out _);

    /// <summary>Parses either form, or returns false.</summary>
    public static bool TryParse(string? text, out TonAddress address)
    {
        try
        {
            address = text is null ? default : Parse(text);
            return text is not null;
        }
        catch (TonFormatException)
        {
            address = default;
            return false;
        }
    }
}
