namespace Cocoon.Web.Features.Money;

/// <summary>Money inside the portal: prices, holds, settlement on the ledger, balances, earnings, the trial balance.</summary>
public static class MoneyModule
{
    public static void AddCocoonMoney(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MoneyOptions>().BindConfiguration(MoneyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<MoneyQueries>();
    }

    public static void MapCocoonMoney(this WebApplication app) => app.MapMoneyEndpoints();
}
