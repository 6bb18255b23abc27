namespace Cocoon.Web.Features.ModelRuns;

/// <summary>
/// The key grants of one model job for one agent: the model's and the dataset's file keys wrapped by
/// the developer's browser to that agent's enclave key. The portal stores and forwards them; it
/// cannot open them.
/// </summary>
public sealed class KeyGrantRecord
{
    public Guid Id { get; set; }

    public Guid JobId { get; set; }

    public Guid AgentId { get; set; }

    /// <summary>The enclave key the grants were wrapped to; an agent that restarted has another and cannot use them.</summary>
    public required byte[] EnclavePublicKey { get; set; }

    public required byte[] ModelGrant { get; set; }

    public required byte[] DatasetGrant { get; set; }
}
