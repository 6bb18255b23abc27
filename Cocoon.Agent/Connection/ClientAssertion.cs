using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Cocoon.Agent.Connection;

/// <summary>
/// A private_key_jwt client assertion (RFC 7523): a short-lived ES256 JWT with the client id as issuer
/// and subject and the portal as audience, signed with the agent's own key.
/// </summary>
public static class ClientAssertion
{
    public const string Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public static string Create(ECDsa key, string clientId, IReadOnlyList<string> audiences, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        var header = new Dictionary<string, object> { ["alg"] = "ES256", ["typ"] = "JWT" };
        var payload = new Dictionary<string, object>
        {
            ["iss"] = clientId,
            ["sub"] = clientId,
            ["aud"] = audiences,
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
