using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Cocoon.Shared.Ton;

namespace Cocoon.Web.Features.Identity.TonProof;

/// <summary>What a wallet signs for <c>ton_proof</c>, byte for byte as the TON Connect spec defines it.</summary>
public static class TonProofMessage
{
    private static readonly byte[] Prefix = "ton-proof-item-v2/"u8.ToArray();
    private static readonly byte[] SignPrefix = [0xff, 0xff, .. "ton-connect"u8];

    /// <summary>
    /// "ton-proof-item-v2/" ‖ workchain (int32 BE) ‖ address hash ‖ domain length (uint32 LE) ‖ domain ‖
    /// timestamp (uint64 LE) ‖ payload.
    /// </summary>
    public static byte[] Build(TonAddress address, string domain, long timestamp, string payload)
    {
        var domainBytes = Encoding.UTF8.GetBytes(domain);
        var payloadBytes = Encoding.UTF8.GetBytes(payload);
        var message = new byte[Prefix.Length + 4 + 32 + 4 + domainBytes.Length + 8 + payloadBytes.Length];
        var span = message.AsSpan();
        Prefix.CopyTo(span);
        span = span[Prefix.Length..];
        BinaryPrimitives.WriteInt32BigEndian(span, address.Workchain);
        address.Hash.CopyTo(span[4..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[36..], (uint)domainBytes.Length);
        domainBytes.CopyTo(span[40..]);
        span = span[(40 + domainBytes.Length)..];
        BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)timestamp);
        payloadBytes.CopyTo(span[8..]);
        return message;
    }

    /// <summary>The 32 bytes the wallet's Ed25519 key signs: sha256(0xFFFF ‖ "ton-connect" ‖ sha256(message)).</summary>
    public static byte[] Digest(byte[] message) => SHA256.HashData([.. SignPrefix, .. SHA256.HashData(message)]);
}
