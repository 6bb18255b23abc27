using Cocoon.Shared;
using Cocoon.Web.Features.Agents.Pairing;
using Cocoon.Web.Features.Identity;
using OpenIddict.Validation.AspNetCore;

namespace Cocoon.Web.Features.Agents;

/// <summary>Agents: pairing, the hub they connect to, and the policies that let their tokens in.</summary>
public static class AgentsModule
{
    public static void AddCocoonAgents(this WebApplicationBuilder builder)
    {
        builder.Services.AddSignalR()
            .AddJsonProtocol(o => o.PayloadSerializerOptions.TypeInfoResolverChain.Insert(0, CocoonJsonContext.Default));
        builder.Services.AddOptions<AgentLinkOptions>()
            .BindConfiguration(AgentLinkOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<AgentRegistry>();
        builder.Services.AddSingleton<AgentQueries>();
        builder.Services.AddSingleton<AgentConnections>();
        builder.Services.AddScoped<AgentPairing>();
        builder.Services.AddSingleton<AgentPairingUi>();

        // What an agent said about itself when it asked for a pairing code, and from where, for the approval page.
        builder.Services.AddOpenIddict().AddServer(o => o.AddEventHandler(PairingRequestRecorder.Descriptor));

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(CocoonPolicies.Agent, p => p
                .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireClaim(AgentClaims.Agent))
            .AddPolicy(CocoonPolicies.AgentPairing, p => p
                .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(c => HasScope(c.User, OAuthServer.PairingScope)));
    }

    public static void MapCocoonAgents(this WebApplication app)
    {
        app.MapAgentsEndpoints();
        app.MapCocoonPairing();
    }

    private static bool HasScope(System.Security.Claims.ClaimsPrincipal user, string scope) =>
        user.FindAll(OpenIddict.Abstractions.OpenIddictConstants.Claims.Private.Scope).Any(c => c.Value == scope)
        || user.FindAll("scope").Any(c => c.Value.Split(' ').Contains(scope, StringComparer.Ordinal));
}
