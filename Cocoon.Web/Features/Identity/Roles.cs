namespace Cocoon.Web.Features.Identity;

/// <summary>Role names as they appear in claims and in <c>[Authorize(Roles = …)]</c>.</summary>
public static class Roles
{
    public const string Developer = nameof(Role.Developer);
    public const string Provider = nameof(Role.Provider);
    public const string Finance = nameof(Role.Finance);
    public const string Admin = nameof(Role.Admin);
}
