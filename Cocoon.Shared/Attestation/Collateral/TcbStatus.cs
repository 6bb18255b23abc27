namespace Cocoon.Shared.Attestation.Collateral;

/// <summary>A platform's TCB status as Intel's collateral rates it (names as in TCB info), plus the verifier's own "no level matches".</summary>
public enum TcbStatus
{
    /// <summary>Every component is at the latest level.</summary>
    UpToDate,
    /// <summary>Current, but some advisories need software mitigations in the TD.</summary>
    SWHardeningNeeded,
    /// <summary>Current, but the platform's configuration (BIOS) needs changes.</summary>
    ConfigurationNeeded,
    /// <summary>Both of the above.</summary>
    ConfigurationAndSWHardeningNeeded,
    /// <summary>A TCB recovery was published that the platform has not applied.</summary>
    OutOfDate,
    /// <summary>Out of date and needing configuration changes.</summary>
    OutOfDateConfigurationNeeded,
    /// <summary>The platform's TCB or key is revoked.</summary>
    Revoked,

    /// <summary>The platform's TCB is below every level the TCB info lists.</summary>
    TcbNotSupported,
}
