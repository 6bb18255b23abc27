using System.Security.Claims;

namespace Cocoon.Web.Features.Identity;

/// <summary>Whose data a query may show: an account's own, or everything for an admin.</summary>
public sealed record Viewer(Guid AccountId, bool IsAdmin)
{
    /// <summary>The signed-in caller; throws when the request was not authenticated (endpoints require it first).</summary>
    public static Viewer From(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var id = user.AccountId() ?? throw new InvalidOperationException("The caller is not signed in.");
        return new Viewer(id, user.IsAdmin());
    }
}
