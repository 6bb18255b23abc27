namespace Cocoon.Web.Features.LocalAgent;

public static class LocalAgentModule
{
    public static void AddCocoonLocalAgent(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LocalAgentOptions>()
            .BindConfiguration(LocalAgentOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (builder.Configuration.GetValue<bool>($"{LocalAgentOptions.Section}:Enabled"))
        {
            builder.Services.AddHostedService<LocalAgentService>();
        }
    }
}
