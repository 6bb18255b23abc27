using Cocoon.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Identity;

/// <summary>Accounts and the role audit as the admin page and API show them.</summary>
public sealed class AccountQueries(IDbContextFactory<CocoonDbContext> dbFactory)
{
    public async Task<IReadOnlyList<AccountView>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var accounts = await db.Set<Account>().AsNoTracking().Include(a => a.Roles).OrderBy(a => a.CreatedAt).ToListAsync(cancellationToken);
        return [.. accounts.Select(AccountView.From)];
    }

    public async Task<IReadOnlyList<RoleChangeView>> RoleChangesAsync(int take = 200, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var accounts = db.Set<Account>();
        return await db.Set<RoleChange>().AsNoTracking()
            .OrderByDescending(c => c.At).ThenByDescending(c => c.Id)
            .Take(take)
            .Select(c => new RoleChangeView(
                c.At,
                accounts.Where(a => a.Id == c.AccountId).Select(a => a.FriendlyAddress).FirstOrDefault() ?? c.AccountId.ToString(),
                c.Role.ToString(),
                c.Granted,
                c.ChangedBy == null ? null : accounts.Where(a => a.Id == c.ChangedBy).Select(a => a.FriendlyAddress).FirstOrDefault(),
                c.Reason))
            .ToListAsync(cancellationToken);
    }
}

/// <summary>One audit line: when, whose role, which, granted or revoked, by whom (null: configuration or self-service), why.</summary>
public sealed record RoleChangeView(DateTimeOffset At, string Account, string Role, bool Granted, string? ChangedBy, string Reason);

/// <summary>An admin's change of an account's share: its weight (1–100) and the most units it runs at once (null: no limit).</summary>
public sealed record SetShareRequest(int? Weight, int? MaxConcurrentUnits);

/// <summary>An admin's role change request.</summary>
public sealed record ChangeRoleRequest(string? Role, bool Granted, string? Reason);
