using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Cocoon.Shared.Sealing;

/// <summary>
/// The header of a sealed envelope (see docs/sealed-envelope.md): magic, version, chunk size, blob
/// id, purpose, the file key wrapped to each recipient with HPKE, and a MAC over all of it.
/// </summary>
public sealed class SealedHeader
{
    /// <summary>"CCSE".</summary>
    public static ReadOnlySpan<byte> Magic => "CCSE"u8;

    /// <summary>The format version this build writes and reads.</summary>
    public const byte CurrentVersion = 1;
    /// <summary>Smallest chunk (plaintext bytes).</summary>
    public const int MinChunkSize = 1024;
    /// <summary>Largest chunk (plaintext bytes).</summary>
    public const int MaxChunkSize = 16 << 20;
    /// <summary>Most recipient stanzas in one header.</summary>
    public const int MaxRecipients = 32;
    /// <summary>Length of the header MAC (HMAC-SHA256).</summary>
    public const int MacLength = 32;
    private const int FixedLength = 4 + 1 + 4 + 16 + 1;

    private SealedHeader(int chunkSize, Guid blobId, string purpose, IReadOnlyList<RecipientStanza> recipients, byte[] mac, byte[] bytes)
    {
        ChunkSize = chunkSize;
        BlobId = blobId;
        Purpose = purpose;
        Recipients = recipients;
        Mac = mac;
        Bytes = bytes;
    }

    /// <summary>Plaintext bytes per chunk (the last chunk may hold fewer).</summary>
    public int ChunkSize { get; }

    /// <summary>The blob's id, bound into the wrapped keys and the payload keys.</summary>
    public Guid BlobId { get; }

    /// <summary>What the file is for ("model", "dataset", "output"): bound into every wrapped key.</summary>
    public string Purpose { get; }

    /// <summary>The file key wrapped to each recipient.</summary>
    public IReadOnlyList<RecipientStanza> Recipients { get; }

    /// <summary>HMAC-SHA256 over the header, keyed from the file key; also every chunk's additional data.</summary>
    public byte[] Mac { get; }

    /// <summary>The header exactly as serialised (its length is where the payload starts).</summary>
    public byte[] Bytes { get; }

    /// <summary>Header length in bytes.</summary>
    public int Length => Bytes.Length;

    /// <summary>The HPKE info every wrapped key of this file carries: the format, blob id and purpose.</summary>
    public static byte[] WrapInfo(Guid blobId, string purpose) =>
        [.. "cocoon-sealed/v1"u8, 0x00, .. BlobIdBytes(blobId), .. Encoding.UTF8.GetBytes(purpose)];

    /// <summary>Wraps the file key to one recipient (also how key grants to agents are made).</summary>
    public static RecipientStanza Wrap(ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> recipientPublicKey, Guid blobId, string purpose)
    {
        var (enc, wrapped) = Hpke.Seal(recipientPublicKey, WrapInfo(blobId, purpose), [], fileKey);
        return new RecipientStanza(KeyId(recipientPublicKey), enc, wrapped);
    }

    /// <summary>First 8 bytes of SHA-256 of the 65-byte public point.</summary>
    public static byte[] KeyId(ReadOnlySpan<byte> publicKey) => SHA256.HashData(publicKey)[..8];

    internal static SealedHeader Create(ReadOnlySpan<byte> fileKey, int chunkSize, Guid blobId, string purpose, IReadOnlyList<byte[]> recipientPublicKeys)
    {
        ArgumentNullException.ThrowIfNull(recipientPublicKeys);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, MinChunkSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, MaxChunkSize);
        ValidatePurpose(purpose);
        if (recipientPublicKeys.Count is 0 or > MaxRecipients)
        {
            throw new ArgumentException($"A sealed file has 1 to {MaxRecipients} recipients.", nameof(recipientPublicKeys));
        }

        var stanzas = new List<RecipientStanza>();
        foreach (var key in recipientPublicKeys)
        {
            stanzas.Add(Wrap(fileKey, key, blobId, purpose));
        }

        var body = Serialize(chunkSize, blobId, purpose, stanzas);
        var mac = HMACSHA256.HashData(PayloadCipher.DeriveKey(fileKey, BlobIdBytes(blobId), "cocoon-sealed/v1 header"u8), body);
        return new SealedHeader(chunkSize, blobId, purpose, stanzas, mac, [.. body, .. mac]);
    }

    /// <summary>Reads a header from the start of a stream; throws <see cref="SealedDataException"/> when it is not one.</summary>
    public static async Task<SealedHeader> ReadAsync(Stream input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var fixedPart = new byte[FixedLength];
        await ReadExactlyAsync(input, fixedPart, cancellationToken);
        if (!fixedPart.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new SealedDataException("This is not a Cocoon sealed file (wrong magic).");
        }

        if (fixedPart[4] != CurrentVersion)
        {
            throw new SealedDataException($"Sealed format version {fixedPart[4]} is not supported (this build reads version {CurrentVersion}).");
        }

        var chunkSize = BinaryPrimitives.ReadInt32BigEndian(fixedPart.AsSpan(5));
        if (chunkSize is < MinChunkSize or > MaxChunkSize)
        {
            throw new SealedDataException("The sealed file declares an impossible chunk size.");
        }

        var purposeLength = fixedPart[^1];
        var purposeAndCount = new byte[purposeLength + 1];
        await ReadExactlyAsync(input, purposeAndCount, cancellationToken);
        var count = purposeAndCount[^1];
        if (count is 0 or > MaxRecipients)
        {
            throw new SealedDataException("The sealed file declares an impossible number of recipients.");
        }

        var rest = new byte[(count * RecipientStanza.Length) + MacLength];
        await ReadExactlyAsync(input, rest, cancellationToken);
        byte[] bytes = [.. fixedPart, .. purposeAndCount, .. rest];
        string purpose;
        try
        {
            purpose = new UTF8Encoding(false, true).GetString(purposeAndCount, 0, purposeLength);
        }
        catch (DecoderFallbackException)
        {
            throw new SealedDataException("The sealed file's purpose is not UTF-8.");
        }

        var stanzas = new List<RecipientStanza>();
        for (var i = 0; i < count; i++)
        {
            var s = rest.AsSpan(i * RecipientStanza.Length, RecipientStanza.Length);
            stanzas.Add(new RecipientStanza(s[..8].ToArray(), s.Slice(8, Hpke.EncLength).ToArray(), s[(8 + Hpke.EncLength)..].ToArray()));
        }

        return new SealedHeader(chunkSize, new Guid(fixedPart.AsSpan(9, 16), bigEndian: true), purpose, stanzas, rest[^MacLength..], bytes);
    }

    /// <summary>
    /// Unwraps the file key with the recipient's private key and checks the header MAC with it.
    /// Throws <see cref="SealedDataException"/> when this key is not a recipient or the header was altered.
    /// </summary>
    public byte[] UnwrapFileKey(ECDiffieHellman recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var keyId = KeyId(Hpke.PublicKeyBytes(recipient));
        var stanza = Recipients.FirstOrDefault(r => r.KeyId.AsSpan().SequenceEqual(keyId))
            ?? throw new SealedDataException("This file is not sealed to your key.");
        var fileKey = Hpke.Open(recipient, stanza.Enc, WrapInfo(BlobId, Purpose), [], stanza.WrappedKey);
        VerifyMac(fileKey);
        return fileKey;
    }

    /// <summary>The cipher for this file's chunks (after the caller has the file key from a stanza or a key grant).</summary>
    public PayloadCipher Payload(ReadOnlySpan<byte> fileKey)
    {
        VerifyMac(fileKey);
        return new PayloadCipher(fileKey, BlobIdBytes(BlobId), Mac);
    }

    /// <summary>Where chunk <paramref name="index"/> starts in the sealed file (for range reads).</summary>
    public long ChunkOffset(long index) => Length + (index * (ChunkSize + (long)PayloadCipher.TagLength));

    private void VerifyMac(ReadOnlySpan<byte> fileKey)
    {
        var expected = HMACSHA256.HashData(PayloadCipher.DeriveKey(fileKey, BlobIdBytes(BlobId), "cocoon-sealed/v1 header"u8), Bytes.AsSpan(0, Length - MacLength));
        if (!CryptographicOperations.FixedTimeEquals(expected, Mac))
        {
            throw new SealedDataException("The sealed file's header was altered.");
        }
    }

    private static byte[] Serialize(int chunkSize, Guid blobId, string purpose, List<RecipientStanza> stanzas)
    {
        var purposeBytes = Encoding.UTF8.GetBytes(purpose);
        using var output = new MemoryStream();
        output.Write(Magic);
        output.WriteByte(CurrentVersion);
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, chunkSize);
        output.Write(size);
        output.Write(BlobIdBytes(blobId));
        output.WriteByte((byte)purposeBytes.Length);
        output.Write(purposeBytes);
        output.WriteByte((byte)stanzas.Count);
        foreach (var stanza in stanzas)
        {
            output.Write(stanza.KeyId);
            output.Write(stanza.Enc);
            output.Write(stanza.WrappedKey);
        }

        return output.ToArray();
    }

    private static byte[] BlobIdBytes(Guid blobId) => blobId.ToByteArray(bigEndian: true);

    private static void ValidatePurpose(string purpose)
    {
        if (string.IsNullOrEmpty(purpose) || purpose.Length > 64 || !purpose.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
        {
            throw new ArgumentException("A purpose is 1 to 64 characters of a-z, 0-9 and '-'.", nameof(purpose));
        }
    }

    private static async Task ReadExactlyAsync(Stream input, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await input.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException)
        {
            throw new SealedDataException("The sealed file ends inside its header.");
        }
    }
}
