using System.Globalization;
using Cocoon.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Identity;

/// <summary>
/// Checks every cookie session against the database: it ends after the absolute lifetime however active
/// it is, and its roles follow the account's current roles, so a revoked role stops working at once.
/// </summary>
public static class SessionValidation
{
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var services = context.HttpContext.RequestServices;
        var options = services.GetRequiredService<IOptions<WalletSignInOptions>>().Value;
        var clock = services.GetRequiredService<TimeProvider>();
        var user = context.Principal;
        var accountId = user?.AccountId();
        if (user is null || accountId is null
            || !long.TryParse(user.FindFirst(CocoonClaims.SignedInAt)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var signedIn)
            || clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(signedIn) > TimeSpan.FromHours(options.AbsoluteHours))
        {
            await RejectAsync(context);
            return;
        }

        var db = services.GetRequiredService<CocoonDbContext>();
        var account = await db.Set<Account>().AsNoTracking().Include(a => a.Roles)
            .SingleOrDefaultAsync(a => a.Id == accountId, context.HttpContext.RequestAborted);
        // Signed out since (here or on any device the cookie was copied to): the stamp has moved on.
        if (account is null || user.FindFirst(CocoonClaims.SecurityStamp)?.Value != account.SecurityStamp)
        {
            await RejectAsync(context);
            return;
        }

        var current = CocoonClaims.RoleNames(account).ToHashSet(StringComparer.Ordinal);
        var held = user.FindAll(System.Security.Claims.ClaimTypes.Role).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        if (!current.SetEquals(held))
        {
            context.ReplacePrincipal(CocoonClaims.For(account, context.Scheme.Name, DateTimeOffset.FromUnixTimeSeconds(signedIn)));
            context.ShouldRenew = true;
        }
    }

    private static async Task RejectAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }
}
