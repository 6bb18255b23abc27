namespace Cocoon.Web.Features.Identity;

/// <summary>What an account may do. Every account is a Developer; the others are granted.</summary>
public enum Role
{
    Developer,
    Provider,
    Finance,
    Admin,
}
