using System.Security.Cryptography;
using System.Text.Json;

namespace Cocoon.Agent.Connection;

/// <summary>
/// What pairing leaves in the agent's data directory: which portal, which agent, which OAuth client
/// (credentials.json), and the P-256 private key the agent signs client assertions with
/// (agent-key.pem, readable by its owner only). The key never leaves the machine.
/// </summary>
public sealed record AgentCredentials(string PortalUrl, Guid AgentId, string ClientId)
{
    private const string FileName = "credentials.json";
    private const string KeyFileName = "agent-key.pem";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static AgentCredentials? TryLoad(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<AgentCredentials>(File.ReadAllText(file), Json);
        }
        catch (JsonException ex)
        {
            throw new AgentNotPairedException($"{file} is damaged ({ex.Message}); pair the agent again with cocoon-agent pair.");
        }
    }

    public static AgentCredentials Load(string dataDirectory) =>
        TryLoad(dataDirectory) ?? throw new AgentNotPairedException(
            $"this agent is not paired with a portal (no {Path.Combine(dataDirectory, FileName)}): run cocoon-agent pair --portal URL first.");

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
        var file = Path.Combine(dataDirectory, KeyFileName);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(file, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(key.ExportPkcs8PrivateKeyPem());
        }

        return key;
    }

    public static ECDsa LoadKey(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, KeyFileName);
        if (!File.Exists(file))
        {
            throw new AgentNotPairedException($"the agent's key {file} is missing; pair the agent again with cocoon-agent pair.");
        }

        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(file));
        return key;
    }
}
