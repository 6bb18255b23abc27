namespace Cocoon.Web.Features.Identity;

/// <summary>An account as the API shows it.</summary>
public sealed record AccountView(Guid Id, string Address, string FriendlyAddress, string WalletVersion, IReadOnlyList<string> Roles, string? EncryptionPublicKey = null)
{
    public static AccountView From(Account account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return new(account.Id, account.Address, account.FriendlyAddress, account.WalletVersion, [.. CocoonClaims.RoleNames(account)], account.EncryptionPublicKey);
    }
}
