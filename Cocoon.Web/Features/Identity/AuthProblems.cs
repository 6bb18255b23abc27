namespace Cocoon.Web.Features.Identity;

/// <summary>The problem details every scheme answers with when a caller is not signed in (401) or not allowed (403).</summary>
public static class AuthProblems
{
    public static Task WriteAsync(HttpContext context, int status)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = status,
                Title = status == StatusCodes.Status401Unauthorized ? "Sign in first" : "Not allowed",
                Detail = status == StatusCodes.Status401Unauthorized
                    ? "Sign in with your TON wallet, or send a valid API token as 'Authorization: Bearer cct_…'."
                    : "Your account or token does not have the role or scope this needs; an admin grants roles, and a token has the scopes it was made with.",
            },
        }).AsTask();
    }
}
