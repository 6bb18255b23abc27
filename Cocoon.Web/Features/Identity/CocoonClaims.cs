using System.Globalization;
using System.Security.Claims;

namespace Cocoon.Web.Features.Identity;

/// <summary>The claims a signed-in account carries, and how to read them back.</summary>
public static class CocoonClaims
{
    public const string Address = "ton_address";
    public const string SignedInAt = "signed_in_at";

    /// <summary>The account's security stamp when the session began (<see cref="Account.SecurityStamp"/>).</summary>
    public const string SecurityStamp = "security_stamp";
    public const string Scope = "scope";

    /// <summary>The principal of a cookie session for an account.</summary>
    public static ClaimsPrincipal For(Account account, string authenticationType, DateTimeOffset signedInAt)
    {
        ArgumentNullException.ThrowIfNull(account);
        var identity = new ClaimsIdentity(authenticationType, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, account.Id.ToString()));
        identity.AddClaim(new Claim(ClaimTypes.Name, account.FriendlyAddress));
        identity.AddClaim(new Claim(Address, account.Address));
        identity.AddClaim(new Claim(SignedInAt, signedInAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        identity.AddClaim(new Claim(SecurityStamp, account.SecurityStamp));
        foreach (var role in RoleNames(account))
        {
            identity.AddClaim(new Claim(ClaimTypes.Role, role));
        }

        return new ClaimsPrincipal(identity);
    }

    public static IEnumerable<string> RoleNames(Account account) =>
        new[] { Roles.Developer }.Concat(account.Roles.Select(r => r.Role.ToString()).Order(StringComparer.Ordinal));

    public static Guid? AccountId(this ClaimsPrincipal user) =>
        Guid.TryParse(user?.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;

    public static bool IsAdmin(this ClaimsPrincipal user) => user?.IsInRole(Roles.Admin) == true;
}
