using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Cocoon.Agent.Connection;

/// <summary>
/// A private_key_jwt client assertion (RFC 7523): a short-lived ES256 JWT with the client id as issuer
/// and subject and the portal's issuer identifier as audience, signed with the agent's own key.
/// </summary>
public static class ClientAssertion
{
    public const string Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public static string Create(ECDsa key, string clientId, string issuer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        // The explicit type (draft-ietf-oauth-rfc7523bis) keeps the assertion from passing for any other JWT.
        var header = new Dictionary<string, object> { ["alg"] = "ES256", ["typ"] = "client-authentication+jwt" };
        var payload = new Dictionary<string, object>
        {
            ["iss"] = clientId,
            ["sub"] = clientId,
            // The portal's issuer identifier, one string, as rfc7523bis requires for this type.
            ["aud"] = issuer,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(2).ToUnixTimeSeconds(),
        };
        var signingInput = $"{Encode(JsonSerializer.SerializeToUtf8Bytes(header))}.{Encode(JsonSerializer.SerializeToUtf8Bytes(payload))}";
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"{signingInput}.{Encode(signature)}";
    }

    public static string Encode(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
