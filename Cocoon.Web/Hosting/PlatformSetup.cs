using System.Text.Json.Serialization;
using Cocoon.Shared;
using Cocoon.Web.Hosting.Live;

namespace Cocoon.Web.Hosting;

public static class PlatformSetup
{
    /// <summary>What every feature leans on: the clock, live updates, JSON and problem details.</summary>
    public static void AddCocoonPlatform(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LiveUpdates>();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, CocoonJsonContext.Default);
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        });
    }

    /// <summary>Errors as problem details, whatever threw.</summary>
    public static void UseCocoonPlatform(this WebApplication app)
    {
        // Malformed JSON and the like surface as BadHttpRequestException: the client's fault, so a 400.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
    }
}
