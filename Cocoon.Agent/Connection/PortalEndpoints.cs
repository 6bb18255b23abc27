using System.Net.Http.Json;
using System.Text.Json;

namespace Cocoon.Agent.Connection;

/// <summary>The portal's OAuth endpoints, read from its OpenID Connect discovery document.</summary>
public sealed record PortalEndpoints(string Issuer, Uri TokenEndpoint, Uri DeviceAuthorizationEndpoint)
{
    public static async Task<PortalEndpoints> DiscoverAsync(HttpClient http, Uri portal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var document = await http.GetFromJsonAsync<JsonElement>(new Uri(portal, ".well-known/openid-configuration"), cancellationToken);
        return new PortalEndpoints(
            document.GetProperty("issuer").GetString()!,
            new Uri(document.GetProperty("token_endpoint").GetString()!),
            new Uri(document.GetProperty("device_authorization_endpoint").GetString()!));
    }
}
