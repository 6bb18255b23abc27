namespace Cocoon.Web.Hosting;

/// <summary>
/// What every response and every state-changing request goes through, whatever feature serves it:
/// security headers (a content security policy Blazor, MudBlazor and TON Connect work under; no
/// sniffing, no framing, no referrer; HSTS over HTTPS), and the refusal of requests a browser sent
/// from another origin, so a page elsewhere — another port of 127.0.0.1 included — cannot use a
/// signed-in person's cookie to change anything (the Origin check of OWASP's CSRF guidance).
/// </summary>
public static class WebHardening
{
    /// <summary>
    /// Scripts only from the portal itself; styles inline too (MudBlazor and TON Connect's UI set them);
    /// images, wallet lists and TON Connect bridges from https; the encryption worker from the portal.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; " +
        "font-src 'self' data:; connect-src 'self' https: wss:; worker-src 'self' blob:; object-src 'none'; " +
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static void UseCocoonWebHardening(this WebApplication app)
    {
        var publicUrl = PortalOptions.FromConfiguration(app.Configuration).PublicUrl;
        var publicOrigin = Uri.TryCreate(publicUrl, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : null;
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            if (context.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
            }

            if (CrossOrigin(context.Request, publicOrigin) is { } origin)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status403Forbidden,
                        Title = "Cross-origin request refused",
                        Detail = $"This request came from a page at {origin}; the portal only takes changes from its own pages.",
                    },
                });
                return;
            }

            await next(context);
        });
    }

    /// <summary>
    /// The other origin a state-changing request came from, or null when it came from the portal's own
    /// pages or from no browser at all (scripts and agents send no Origin; their bearer tokens are not
    /// something a page elsewhere can attach).
    /// </summary>
    public static string? CrossOrigin(HttpRequest request, string? publicOrigin)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            return null;
        }

        var own = $"{request.Scheme}://{request.Host}";
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) || string.Equals(origin, publicOrigin, StringComparison.OrdinalIgnoreCase) ? null : origin;
        }

        // A browser that sends no Origin still says where the request came from.
        return request.Headers["Sec-Fetch-Site"].ToString() is "cross-site" or "same-site" ? "another site" : null;
    }
}
