namespace Cocoon.Web.Features.Identity;

/// <summary>An account as the API shows it.</summary>
/// <param name="ShareWeight">The account's weight in the fair share of capacity.</param>
/// <param name="MaxConcurrentUnits">The most units its jobs run at once; null: no limit of its own.</param>
public sealed record AccountView(Guid Id, string Address, string FriendlyAddress, string WalletVersion, IReadOnlyList<string> Roles, string? EncryptionPublicKey = null,
    int ShareWeight = 1, int? MaxConcurrentUnits = null)
{
    public static AccountView From(Account account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return new(account.Id, account.Address, account.FriendlyAddress, account.WalletVersion, [.. CocoonClaims.RoleNames(account)], account.EncryptionPublicKey,
            account.ShareWeight, account.MaxConcurrentUnits);
    }
}
