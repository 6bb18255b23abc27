namespace Cocoon.Shared.Sealing;

/// <summary>The file key wrapped to one recipient: which key (first 8 bytes of SHA-256 of its public point), HPKE's enc, and the wrapped key.</summary>
public sealed record RecipientStanza(byte[] KeyId, byte[] Enc, byte[] WrappedKey)
{
    /// <summary>Bytes one stanza takes in the header.</summary>
    public const int Length = 8 + Hpke.EncLength + 32 + 16;
}
