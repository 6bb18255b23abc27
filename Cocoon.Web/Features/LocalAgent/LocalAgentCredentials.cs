using System.Security.Cryptography;
using System.Text.Json;

namespace Cocoon.Web.Features.LocalAgent;

/// <summary>
/// The files pairing leaves in an agent's data directory, as the agent reads them
/// (Cocoon.Agent/Connection/AgentCredentials): credentials.json (portal, agent id, OAuth client) and
/// agent-key.pem (the P-256 private key, owner-only). The portal writes them for the agent it pairs
/// itself; a test reads them back with the agent's own code, so the two cannot drift apart.
/// </summary>
public sealed record LocalAgentCredentials(string PortalUrl, Guid AgentId, string ClientId)
{
    public const string FileName = "credentials.json";
    public const string KeyFileName = "agent-key.pem";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The credentials in <paramref name="dataDirectory"/>; null when there are none or they cannot be read.</summary>
    public static LocalAgentCredentials? TryLoad(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, FileName);
        try
        {
            return File.Exists(file) && File.Exists(Path.Combine(dataDirectory, KeyFileName))
                ? JsonSerializer.Deserialize<LocalAgentCredentials>(File.ReadAllText(file), Json)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Save(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, FileName);
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    /// <summary>Makes the agent's key pair and stores the private key with owner-only permissions.</summary>
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
}
