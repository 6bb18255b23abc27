using Cocoon.Web.Data;
using Cocoon.Web.Hosting;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Cocoon.Web.Features.Identity;

/// <summary>
/// The OpenID Connect server agents and scripts get credentials from (OpenIddict): the device
/// authorization flow pairs an agent with a provider's account; from then on the agent signs a
/// client assertion with its own key (private_key_jwt) and gets short-lived access tokens.
/// </summary>
public static class OAuthServer
{
    /// <summary>The public client the agent's <c>pair</c> command uses for the device flow.</summary>
    public const string PairingClientId = "cocoon-agent";

    /// <summary>The scope of the device-flow token: it can only register the agent's key.</summary>
    public const string PairingScope = "agent.pair";

    /// <summary>The scope of a paired agent's access tokens.</summary>
    public const string AgentScope = "agent";

    public const string TokenPath = "/connect/token";
    public const string DevicePath = "/connect/device";
    public const string VerifyPath = "/connect/verify";

    public static void AddCocoonOAuthServer(this WebApplicationBuilder builder)
    {
        var portal = PortalOptions.FromConfiguration(builder.Configuration);
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<CocoonDbContext>())
            .AddServer(o =>
            {
                o.SetTokenEndpointUris(TokenPath.TrimStart('/'))
                    .SetDeviceAuthorizationEndpointUris(DevicePath.TrimStart('/'))
                    .SetEndUserVerificationEndpointUris(VerifyPath.TrimStart('/'));
                o.AllowDeviceAuthorizationFlow().AllowClientCredentialsFlow();
                o.RegisterScopes(PairingScope, AgentScope);
                o.SetAccessTokenLifetime(TimeSpan.FromMinutes(10));
                o.SetDeviceCodeLifetime(TimeSpan.FromMinutes(10)).SetUserCodeLifetime(TimeSpan.FromMinutes(10));
                if (Uri.TryCreate(portal.PublicUrl, UriKind.Absolute, out var issuer))
                {
                    o.SetIssuer(issuer);
                }

                // Keys live in memory: agents fetch a fresh token on every (re)connection, so a restart
                // costs them one token request. Several portal nodes will need shared keys (see the ADR).
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                var aspNet = o.UseAspNetCore()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndUserVerificationEndpointPassthrough();
                if (portal.IsLoopbackHttp || string.IsNullOrEmpty(portal.PublicUrl))
                {
                    aspNet.DisableTransportSecurityRequirement();
                }
            })
            .AddValidation(o =>
            {
                o.UseLocalServer();
                o.UseAspNetCore();
            });
        builder.Services.AddHostedService<OAuthClientSeeder>();
    }

    /// <summary>Registers the pairing client at start (idempotent).</summary>
    private sealed class OAuthClientSeeder(IServiceProvider services) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            if (await applications.FindByClientIdAsync(PairingClientId, cancellationToken) is not null)
            {
                return;
            }

            try
            {
                await applications.CreateAsync(Descriptor(), cancellationToken);
            }
            catch (Exception)
            {
                // Another portal node may have registered it at the same moment; anything else is real.
                if (await applications.FindByClientIdAsync(PairingClientId, cancellationToken) is null)
                {
                    throw;
                }
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        private static OpenIddictApplicationDescriptor Descriptor() => new()
        {
            ClientId = PairingClientId,
            ClientType = ClientTypes.Public,
            DisplayName = "Cocoon agent (pairing)",
            Permissions =
            {
                Permissions.Endpoints.DeviceAuthorization,
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.DeviceCode,
                Permissions.Prefixes.Scope + PairingScope,
            },
        };
    }
}
