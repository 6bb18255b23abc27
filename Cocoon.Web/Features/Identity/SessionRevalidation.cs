using System.Security.Claims;
using Cocoon.Web.Data;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Identity;

/// <summary>
/// A page's circuit outlives the request that opened it; every minute this re-checks that its account
/// still exists, holds the same roles and has not signed out since, and signs the circuit out when not.
/// </summary>
public sealed class SessionRevalidation(ILoggerFactory loggerFactory, IDbContextFactory<CocoonDbContext> dbFactory)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var user = authenticationState.User;
        var id = user.AccountId();
        if (id is null)
        {
            return true;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var account = await db.Set<Account>().AsNoTracking().Include(a => a.Roles).SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        return account is not null
            && user.FindFirst(CocoonClaims.SecurityStamp)?.Value == account.SecurityStamp
            && CocoonClaims.RoleNames(account).ToHashSet(StringComparer.Ordinal)
                .SetEquals(user.FindAll(ClaimTypes.Role).Select(c => c.Value));
    }
}
