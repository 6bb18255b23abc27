namespace Cocoon.Web.Features.Identity;

public sealed class AccountNotFoundException(Guid id) : Exception($"There is no account {id}.");
