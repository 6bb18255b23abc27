namespace Cocoon.Web.Features.Identity;

/// <summary>A role granted to an account (Developer is implied and never stored).</summary>
public sealed class AccountRole
{
    public Guid AccountId { get; set; }

    public Role Role { get; set; }

    public DateTimeOffset GrantedAt { get; set; }
}
