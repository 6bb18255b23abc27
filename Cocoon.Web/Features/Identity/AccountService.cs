using Cocoon.Shared.Ton;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity.TonProof;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Identity;

/// <summary>Accounts and their roles: created on first sign-in, roles changed only with an audit line.</summary>
public sealed class AccountService(CocoonDbContext db, TimeProvider clock, IOptions<WalletSignInOptions> options, ILogger<AccountService> logger)
{
    /// <summary>Finds or creates the wallet's account and makes the configured admin wallet an admin.</summary>
    public async Task<Account> SignInAsync(VerifiedWallet wallet, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        var now = clock.GetUtcNow();
        var raw = wallet.Address.ToRaw();
        var account = await db.Set<Account>().Include(a => a.Roles).SingleOrDefaultAsync(a => a.Address == raw, cancellationToken);
        if (account is null)
        {
            account = new Account
            {
                Id = Guid.NewGuid(),
                Address = raw,
                FriendlyAddress = wallet.Address.ToFriendly(bounceable: false, testnet: wallet.Testnet),
                PublicKey = Convert.ToHexStringLower(wallet.PublicKey),
                WalletVersion = wallet.Version.ToString(),
                Testnet = wallet.Testnet,
                CreatedAt = now,
                LastSignInAt = now,
            };
            db.Add(account);
            logger.LogInformation("New account {Account} ({Version})", account.FriendlyAddress, account.WalletVersion);
        }

        account.PublicKey = Convert.ToHexStringLower(wallet.PublicKey);
        account.WalletVersion = wallet.Version.ToString();
        account.LastSignInAt = now;
        if (IsConfiguredAdmin(wallet.Address) && account.Roles.All(r => r.Role != Role.Admin))
        {
            Grant(account, Role.Admin, changedBy: null, "configured admin wallet (Cocoon:Identity:AdminWallet)", now);
        }

        await db.SaveChangesAsync(cancellationToken);
        return account;
    }

    /// <summary>
    /// Sets the account's weight in the fair share of capacity (1 to <see cref="MaxShareWeight"/>) and
    /// the most units its jobs may run at once (null: no limit of its own).
    /// </summary>
    /// <exception cref="InvalidShareException">A value is out of range; nothing changes.</exception>
    /// <exception cref="AccountNotFoundException">There is no such account.</exception>
    public async Task SetShareAsync(Guid accountId, int weight, int? maxConcurrentUnits, Guid changedBy, CancellationToken cancellationToken)
    {
        if (weight is < 1 or > MaxShareWeight)
        {
            throw new InvalidShareException($"weight must be between 1 and {MaxShareWeight}.");
        }

        if (maxConcurrentUnits is < 0 or > MaxConcurrentUnitsLimit)
        {
            throw new InvalidShareException($"maxConcurrentUnits must be between 0 and {MaxConcurrentUnitsLimit}, or null for no limit.");
        }

        var account = await db.Set<Account>().SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken) ?? throw new AccountNotFoundException(accountId);
        account.ShareWeight = weight;
        account.MaxConcurrentUnits = maxConcurrentUnits;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Account {Account}'s share set to weight {Weight}, at most {Limit} units at once, by {Admin}",
            account.FriendlyAddress, weight, maxConcurrentUnits?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any", changedBy);
    }

    public const int MaxShareWeight = 100;

    public const int MaxConcurrentUnitsLimit = 100_000;

    /// <summary>Grants or revokes a role. Developer cannot be changed; an admin cannot remove their own Admin role.</summary>
    public async Task ChangeRoleAsync(Guid accountId, Role role, bool grant, Guid? changedBy, string reason, CancellationToken cancellationToken)
    {
        if (role == Role.Developer)
        {
            throw new InvalidRoleChangeException("Every account is a Developer; that role cannot be granted or revoked.");
        }

        if (!grant && role == Role.Admin && changedBy == accountId)
        {
            throw new InvalidRoleChangeException("You cannot remove your own Admin role; ask another admin.");
        }

        var account = await db.Set<Account>().Include(a => a.Roles).SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken)
            ?? throw new AccountNotFoundException(accountId);
        var has = account.Roles.Any(r => r.Role == role);
        if (has == grant)
        {
            return;
        }

        var now = clock.GetUtcNow();
        if (grant)
        {
            Grant(account, role, changedBy, reason, now);
        }
        else
        {
            account.Roles.RemoveAll(r => r.Role == role);
            db.Add(new RoleChange { AccountId = accountId, Role = role, Granted = false, ChangedBy = changedBy, Reason = reason, At = now });
        }

        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Role {Role} {Change} for {Account} by {By}", role, grant ? "granted" : "revoked", account.FriendlyAddress, changedBy);
    }

    /// <summary>A GPU owner makes themselves a provider: self-service, audited like any role change.</summary>
    public Task BecomeProviderAsync(Guid accountId, CancellationToken cancellationToken) =>
        ChangeRoleAsync(accountId, Role.Provider, grant: true, changedBy: null, "self-service: became a provider", cancellationToken);

    private void Grant(Account account, Role role, Guid? changedBy, string reason, DateTimeOffset now)
    {
        account.Roles.Add(new AccountRole { AccountId = account.Id, Role = role, GrantedAt = now });
        db.Add(new RoleChange { AccountId = account.Id, Role = role, Granted = true, ChangedBy = changedBy, Reason = reason, At = now });
    }

    private bool IsConfiguredAdmin(TonAddress address) =>
        TonAddress.TryParse(options.Value.AdminWallet, out var admin) && admin.Equals(address);
}
