using System.Security.Cryptography;
using System.Text.Json;

namespace Cocoon.Shared.Pairing;

/// <summary>
/// What pairing leaves in an agent's data directory: which portal, which agent, which OAuth client
/// (credentials.json), and the P-256 private key the agent signs client assertions with
/// (agent-key.pem, readable by its owner only; the key never leaves the machine). Written by
/// <c>cocoon-agent pair</c>, and by the portal for the local agent it pairs itself.
/// </summary>
public sealed record AgentCredentials(string PortalUrl, Guid AgentId, string ClientId)
{
    /// <summary>The credentials' file in the agent's data directory.</summary>
    public const string FileName = "credentials.json";

    /// <summary>The private key's file (PKCS#8 PEM, owner-only) in the agent's data directory.</summary>
    public const string KeyFileName = "agent-key.pem";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The credentials in <paramref name="dataDirectory"/>, or null when it holds none.</summary>
    /// <exception cref="InvalidDataException">The file is there but cannot be read as credentials.</exception>
    public static AgentCredentials? TryLoad(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<AgentCredentials>(File.ReadAllText(file), Json)
                ?? throw new InvalidDataException($"{file} holds no credentials.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{file} is damaged ({ex.Message}).", ex);
        }
    }

    /// <summary>Writes the credentials into <paramref name="dataDirectory"/>, replacing any there at once (never half-written).</summary>
    public void Save(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, FileName);
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    /// <summary>Makes a new key pair and stores the private key with owner-only permissions.</summary>
    public static ECDsa CreateKey(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(Path.Combine(dataDirectory, KeyFileName), options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(key.ExportPkcs8PrivateKeyPem());
        }

        return key;
    }

    /// <summary>The agent's private key, or null when <paramref name="dataDirectory"/> holds none.</summary>
    public static ECDsa? TryLoadKey(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, KeyFileName);
        if (!File.Exists(file))
        {
            return null;
        }

        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(file));
        return key;
    }
}
