using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Hosting;

/// <summary>How the portal is reached from outside (section "Cocoon").</summary>
public sealed class PortalOptions
{
    public const string Section = "Cocoon";

    /// <summary>
    /// The URL people and agents use, e.g. https://cocoon.example.com. Wallet proofs are accepted only
    /// for its host, and it names the OAuth issuer. Defaults to the first URL Kestrel listens on.
    /// </summary>
    [Required(ErrorMessage = "Cocoon:PublicUrl is not set: set it to the portal's public URL, e.g. --Cocoon:PublicUrl=https://cocoon.example.com.")]
    [Url(ErrorMessage = "Cocoon:PublicUrl must be an absolute http:// or https:// URL.")]
    public string PublicUrl { get; set; } = "";

    /// <summary>The name wallets show when asked to connect.</summary>
    public string Name { get; set; } = "Cocoon";

    /// <summary>
    /// The settings as configured, with the public URL defaulting to the first URL Kestrel listens on
    /// (--urls): the quick start's case. Startup code that cannot wait for IOptions reads them here too.
    /// </summary>
    public static PortalOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(Section).Get<PortalOptions>() ?? new PortalOptions();
        ApplyDefaults(options, configuration);
        return options;
    }

    internal static void ApplyDefaults(PortalOptions options, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(options.PublicUrl))
        {
            options.PublicUrl = configuration["urls"]?.Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        }
    }

    public Uri PublicUri => new(PublicUrl.TrimEnd('/') + "/");

    /// <summary>host[:port] as a wallet signs it in ton_proof's domain.</summary>
    public string PublicHost => PublicUri.IsDefaultPort ? PublicUri.Host : $"{PublicUri.Host}:{PublicUri.Port}";

    /// <summary>Plain HTTP on a loopback address: the quick start, not a deployment.</summary>
    public bool IsLoopbackHttp => PublicUri.Scheme == Uri.UriSchemeHttp && PublicUri.IsLoopback;
}
