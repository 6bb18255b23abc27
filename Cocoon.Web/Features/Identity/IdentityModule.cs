using System.Threading.RateLimiting;
using Cocoon.Web.Features.Identity.ApiTokens;
using Cocoon.Web.Features.Identity.TonProof;
using Cocoon.Web.Hosting;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using OpenIddict.Validation.AspNetCore;

namespace Cocoon.Web.Features.Identity;

/// <summary>
/// Who is calling: people by wallet-proof cookie sessions, scripts by API tokens, agents by OAuth
/// access tokens. One policy scheme picks the handler from the request, so every endpoint and page
/// simply names the policy it needs.
/// </summary>
public static class IdentityModule
{
    public const string SignInRateLimit = "sign-in";

    private const string SelectorScheme = "Cocoon";

    public static void AddCocoonIdentity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PortalOptions>()
            .BindConfiguration(PortalOptions.Section)
            .PostConfigure(o => PortalOptions.ApplyDefaults(o, builder.Configuration))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<WalletSignInOptions>()
            .BindConfiguration(WalletSignInOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var portal = PortalOptions.FromConfiguration(builder.Configuration);
        var sessions = builder.Configuration.GetSection(WalletSignInOptions.Section).Get<WalletSignInOptions>() ?? new WalletSignInOptions();

        builder.Services.AddSingleton<TonProofVerifier>();
        builder.Services.AddScoped<ProofPayloads>();
        builder.Services.AddScoped<AccountService>();
        builder.Services.AddSingleton<AccountQueries>();
        builder.Services.AddScoped<ApiTokenService>();

        builder.Services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "Cookie, API token or OAuth token", o => o.ForwardDefaultSelector = SelectScheme)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                // __Host- requires Secure, which plain HTTP on loopback (the quick start) cannot carry.
                o.Cookie.Name = portal.IsLoopbackHttp ? "cocoon.session" : "__Host-cocoon.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = portal.IsLoopbackHttp ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
                o.Cookie.Path = "/";
                o.ExpireTimeSpan = TimeSpan.FromMinutes(sessions.IdleMinutes);
                o.SlidingExpiration = true;
                o.LoginPath = "/signin";
                o.AccessDeniedPath = "/denied";
                o.Events.OnValidatePrincipal = SessionValidation.ValidateAsync;
                o.Events.OnRedirectToLogin = context => ApiAware(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => ApiAware(context, StatusCodes.Status403Forbidden);
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null);

        builder.Services.AddAuthorizationBuilder()
            // [Authorize] on a page means a person with a cookie session; APIs name their policies.
            .SetDefaultPolicy(Interactive().Build())
            .AddPolicy(CocoonPolicies.Account, AccountPolicy().Build())
            .AddPolicy(CocoonPolicies.Interactive, Interactive().Build())
            .AddPolicy(CocoonPolicies.Provider, Interactive().RequireRole(Roles.Provider).Build())
            .AddPolicy(CocoonPolicies.Finance, Interactive().RequireRole(Roles.Finance).Build())
            .AddPolicy(CocoonPolicies.LedgerRead, Interactive().RequireRole(Roles.Finance, Roles.Admin).Build())
            .AddPolicy(CocoonPolicies.Admin, Interactive().RequireRole(Roles.Admin).Build());
        foreach (var scope in CocoonPolicies.ApiScopes)
        {
            builder.Services.AddAuthorizationBuilder().AddPolicy(scope, p => p
                .AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme, ApiTokenAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireAssertion(c => c.User.Identity?.AuthenticationType == CookieAuthenticationDefaults.AuthenticationScheme
                    || c.User.HasClaim(CocoonClaims.Scope, scope)));
        }

        // Payloads are rows in PostgreSQL and proofs cost a signature check: both are limited per client address.
        builder.Services.AddRateLimiter(o =>
        {
            o.AddPolicy(SignInRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = sessions.SignInRequestsPerMinute, Window = TimeSpan.FromMinutes(1) }));
        });

        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<AuthenticationStateProvider, SessionRevalidation>();
        builder.AddCocoonOAuthServer();
    }

    public static void UseCocoonIdentity(this WebApplication app)
    {
        // After authentication, so that limits can count per account (Hosting/RateLimits); but the
        // device authorization endpoint is answered by OpenIddict inside authentication itself, so its
        // (anonymous, per address) limit is applied before.
        app.UseWhen(c => string.Equals(c.Request.Path, OAuthServer.DevicePath, StringComparison.OrdinalIgnoreCase), branch => branch.UseRateLimiter());
        app.UseAuthentication();
        app.UseWhen(c => !string.Equals(c.Request.Path, OAuthServer.DevicePath, StringComparison.OrdinalIgnoreCase), branch => branch.UseRateLimiter());
        app.UseAuthorization();
    }

    public static void MapCocoonIdentity(this WebApplication app)
    {
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<ProofPayloads>(ProofPayloads.PurgeJobId, p => p.PurgeExpiredAsync(CancellationToken.None), Cron.Hourly());
        app.MapCocoonAuth();
        app.MapCocoonApiTokens();
        app.MapCocoonAdmin();
    }

    private static string SelectScheme(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer " + ApiTokenService.SecretPrefix, StringComparison.Ordinal) ? ApiTokenAuthenticationHandler.SchemeName
            : header.StartsWith("Bearer ", StringComparison.Ordinal) ? OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme
            : CookieAuthenticationDefaults.AuthenticationScheme;
    }

    private static AuthorizationPolicyBuilder AccountPolicy() =>
        new AuthorizationPolicyBuilder(CookieAuthenticationDefaults.AuthenticationScheme, ApiTokenAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireRole(Roles.Developer);

    /// <summary>A person at a browser: role-gated areas are not open to API tokens.</summary>
    private static AuthorizationPolicyBuilder Interactive() =>
        new AuthorizationPolicyBuilder(CookieAuthenticationDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .RequireRole(Roles.Developer);

    /// <summary>APIs answer 401/403 problem details; pages are redirected to sign-in or the denied page.</summary>
    private static Task ApiAware(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (IsApi(context.Request))
        {
            return AuthProblems.WriteAsync(context.HttpContext, status);
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    internal static bool IsApi(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hangfire") || request.Path.StartsWithSegments("/hubs");
}
