using Cocoon.Agent.Connection;
using Cocoon.Agent.Options;
using Cocoon.Shared.Attestation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.ModelRuns;

/// <summary>
/// The evidence the agent presents for its enclave key: an Intel TDX quote when it runs in a TDX
/// guest (through the kernel's configfs-tsm report interface), otherwise a development statement
/// signed with its pairing key. Either binds the agent, the enclave key and the nonce the portal drew
/// for this connection (<see cref="EvidenceBinding"/>), so it is made afresh for every registration.
/// </summary>
public sealed class EnclaveEvidenceSource(EnclaveKey enclave, AgentTokenSource tokens, IOptions<AgentOptions> options, ILogger<EnclaveEvidenceSource> logger)
{
    public EnclaveEvidence Answer(Guid agentId, byte[] nonce)
    {
        var settings = options.Value;
        if (settings.Evidence != "development" && Directory.Exists(settings.TsmReportPath))
        {
            try
            {
                return TdxEvidence.Create(enclave.PublicKey, Quote(settings.TsmReportPath, EvidenceBinding.ReportData(agentId, nonce, enclave.PublicKey)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException && settings.Evidence == "auto")
            {
                logger.LogWarning("No TDX quote from {Path} ({Reason}); presenting development evidence", settings.TsmReportPath, ex.Message);
            }
        }

        return tokens.SignEnclaveEvidence(enclave, nonce);
    }

    /// <summary>One quote through configfs-tsm: make a report entry, write the report data, read the quote, remove the entry.</summary>
    internal static byte[] Quote(string reportRoot, byte[] reportData)
    {
        var entry = Path.Combine(reportRoot, "cocoon-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(entry);
        try
        {
            File.WriteAllBytes(Path.Combine(entry, "inblob"), reportData);
            var provider = File.ReadAllText(Path.Combine(entry, "provider")).Trim();
            if (provider != "tdx_guest")
            {
                throw new InvalidOperationException($"the configfs-tsm provider is {provider}, not tdx_guest.");
            }

            return File.ReadAllBytes(Path.Combine(entry, "outblob"));
        }
        finally
        {
            Directory.Delete(entry);
        }
    }
}
