namespace Cocoon.Web.Features.Identity;

/// <summary>Authorization policy names.</summary>
public static class CocoonPolicies
{
    /// <summary>A signed-in account (cookie) or an API token of one.</summary>
    public const string Account = "account";

    /// <summary>A paired agent's access token; nothing else reaches the agent hub.</summary>
    public const string Agent = "agent";

    /// <summary>A device-flow token that lets a freshly paired agent register its key.</summary>
    public const string AgentPairing = "agent-pairing";

    /// <summary>A person signed in with a wallet (cookie), not a script.</summary>
    public const string Interactive = "interactive";

    public const string Provider = "provider";
    public const string Finance = "finance";

    /// <summary>The ledger's trial balance and checks: Finance or Admin.</summary>
    public const string LedgerRead = "ledger-read";
    public const string Admin = "admin";

    /// <summary>API scopes: a cookie session has all of them; an API token only those it was made with.</summary>
    public const string JobsRead = "jobs:read";
    public const string JobsWrite = "jobs:write";
    public const string AgentsRead = "agents:read";

    public static readonly string[] ApiScopes = [JobsRead, JobsWrite, AgentsRead];
}
