using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cocoon.Web.Tests.Identity;

public sealed class SessionValidationTests
{
    [Theory]
    [InlineData(13)]
    [InlineData(12.01)]
    public async Task A_session_past_its_absolute_lifetime_ends_however_active_it_was(double hoursAgo)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(clock);
        services.AddOptions<WalletSignInOptions>();
        services.AddAuthentication().AddCookie();
        await using var provider = services.BuildServiceProvider();
        var http = new DefaultHttpContext { RequestServices = provider };
        var account = new Account
        {
            Id = Guid.NewGuid(),
            Address = TonVectors.V4R2Address,
            FriendlyAddress = "UQDnHytfNeXNUvfdRx41nlsVqT_DuI_WvFzMrNnVr7n8hT3L",
            PublicKey = TonVectors.PublicKey,
            WalletVersion = "V4R2",
        };
        var principal = CocoonClaims.For(account, CookieAuthenticationDefaults.AuthenticationScheme, clock.GetUtcNow().AddHours(-hoursAgo));
        var context = new CookieValidatePrincipalContext(
            http,
            new AuthenticationScheme(CookieAuthenticationDefaults.AuthenticationScheme, null, typeof(CookieAuthenticationHandler)),
            new CookieAuthenticationOptions(),
            new AuthenticationTicket(principal, CookieAuthenticationDefaults.AuthenticationScheme));

        await SessionValidation.ValidateAsync(context);

        Assert.Null(context.Principal);
        Assert.Contains("expires=Thu, 01 Jan 1970", http.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
    }
}
