using MudBlazor.Services;

namespace Cocoon.Web.Components;

public static class UiSetup
{
    public static void AddCocoonUi(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
    }

    public static void UseCocoonUi(this WebApplication app)
    {
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }
}
