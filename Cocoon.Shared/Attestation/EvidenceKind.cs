namespace Cocoon.Shared.Attestation;

/// <summary>What vouches for an agent's enclave key.</summary>
public enum EvidenceKind
{
    /// <summary>
    /// A statement signed with the agent's pairing key: it proves which paired agent holds the enclave
    /// key, not that the key lives in protected hardware. The operator of the machine can read it.
    /// </summary>
    Development = 0,

    /// <summary>An Intel TDX quote whose report data commits to the enclave key.</summary>
    Tdx = 1,
}
