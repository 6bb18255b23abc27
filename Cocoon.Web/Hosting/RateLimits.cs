using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.RateLimiting;

namespace Cocoon.Web.Hosting;

/// <summary>
/// Limits on the requests that cost the portal work or storage, or could guess a code: starting the
/// agent device flow, entering a pairing code, starting an upload, submitting a job, creating an API
/// token. Each is counted per signed-in account, or per client address for anonymous callers, in
/// one-minute windows; past the limit the answer is 429 problem details with Retry-After.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Cocoon:RateLimits";

    [Range(1, 100_000, ErrorMessage = "Cocoon:RateLimits:DeviceCodesPerMinute must be between 1 and 100000.")]
    public int DeviceCodesPerMinute { get; set; } = 10;

    [Range(1, 100_000, ErrorMessage = "Cocoon:RateLimits:CodeChecksPerMinute must be between 1 and 100000.")]
    public int CodeChecksPerMinute { get; set; } = 20;

    [Range(1, 100_000, ErrorMessage = "Cocoon:RateLimits:UploadsPerMinute must be between 1 and 100000.")]
    public int UploadsPerMinute { get; set; } = 60;

    [Range(1, 100_000, ErrorMessage = "Cocoon:RateLimits:JobsPerMinute must be between 1 and 100000.")]
    public int JobsPerMinute { get; set; } = 60;

    [Range(1, 100_000, ErrorMessage = "Cocoon:RateLimits:TokensPerMinute must be between 1 and 100000.")]
    public int TokensPerMinute { get; set; } = 10;
}

public static class RateLimits
{
    /// <summary>The limited requests, by what they are; null for any other request.</summary>
    public static string? Category(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!HttpMethods.IsPost(request.Method))
        {
            return null;
        }

        // Routing matches paths case-insensitively and with a trailing slash; so must this, or a
        // request spelled /API/Tokens/ would go uncounted.
        var path = (request.Path.Value ?? "").TrimEnd('/').ToLowerInvariant();
        return path switch
        {
            OAuthServer.DevicePath => "device codes",
            OAuthServer.VerifyPath => "pairing code checks",
            "/api/uploads" => "uploads",
            "/api/jobs" or "/api/model-jobs" => "job submissions",
            "/api/tokens" => "API tokens",
            _ => null,
        };
    }

    public static void AddCocoonRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var limits = builder.Configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        builder.Services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var category = Category(context.Request);
                if (category is null)
                {
                    return RateLimitPartition.GetNoLimiter("");
                }

                var who = context.User.AccountId() is { } account ? $"account:{account}" : $"address:{context.Connection.RemoteIpAddress}";
                var permits = category switch
                {
                    "device codes" => limits.DeviceCodesPerMinute,
                    "pairing code checks" => limits.CodeChecksPerMinute,
                    "uploads" => limits.UploadsPerMinute,
                    "job submissions" => limits.JobsPerMinute,
                    _ => limits.TokensPerMinute,
                };
                return RateLimitPartition.GetFixedWindowLimiter($"{category}|{who}", _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1) });
            });
            o.OnRejected = (context, _) => new ValueTask(TooManyAsync(context.HttpContext));
        });
    }

    private static Task TooManyAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = "60";
        var what = Category(context.Request);
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = what is null ? "Too many sign-in attempts" : "Too many requests",
                Detail = what is null
                    ? "This address asked for too many sign-in payloads or proofs; wait a minute and try again."
                    : $"Too many {what} from this account or address in the last minute; wait a minute and try again.",
                Extensions = { ["code"] = "rate_limited" },
            },
        }).AsTask();
    }
}
