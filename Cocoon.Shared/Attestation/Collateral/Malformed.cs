using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text.Json;

namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>
/// What reading a hostile document can throw (JSON, ASN.1, hex and base64, numbers out of range, keys
/// and names that are not what they say): each reader turns these into an <see cref="AttestationException"/>
/// that says which document, so nothing escapes as a server error.
/// </summary>
public static class Malformed
{
    /// <summary>Whether <paramref name="ex"/> means the input was malformed (rather than a bug or an outage).</summary>
    public static bool Is(Exception ex) =>
        ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException
            or ArgumentException or AsnContentException or CryptographicException;

    /// <summary>Whether every bit <paramref name="mask"/> selects in <paramref name="value"/> equals <paramref name="expected"/>.</summary>
    public static bool MatchesMasked(ReadOnlySpan<byte> value, ReadOnlySpan<byte> mask, ReadOnlySpan<byte> expected)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if ((value[i] & mask[i]) != expected[i])
            {
                return false;
            }
        }

        return true;
    }
}
