namespace Cocoon.Web.Features.Identity;

/// <summary>One line of the role audit: who changed whose role, when, and which way. Append-only.</summary>
public sealed class RoleChange
{
    public long Id { get; set; }

    public Guid AccountId { get; set; }

    public Role Role { get; set; }

    public bool Granted { get; set; }

    /// <summary>The admin who made the change; null when configuration did (the first admin) or the account itself (becoming a provider).</summary>
    public Guid? ChangedBy { get; set; }

    /// <summary>Why, in words: "configured admin wallet", "self-service", or the admin's note.</summary>
    public required string Reason { get; set; }

    public DateTimeOffset At { get; set; }
}
