using Cocoon.Web.Features.Money.Chain;
using Hangfire;

namespace Cocoon.Web.Features.Money;

/// <summary>Money inside the portal: prices, holds, settlement on the ledger, balances, earnings, the trial balance.</summary>
public static class MoneyModule
{
    public static void AddCocoonMoney(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MoneyOptions>().BindConfiguration(MoneyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<MoneyQueries>();
        builder.Services.AddOptions<TonOptions>().BindConfiguration(TonOptions.Section)
            .ValidateOnStart();
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<TonOptions>>(new TonOptionsValidator(development));
        builder.Services.AddHttpClient<ToncenterClient>(c => c.Timeout = TimeSpan.FromSeconds(20));
        builder.Services.AddScoped<DepositWatcher>();
    }

    public static void MapCocoonMoney(this WebApplication app)
    {
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<DepositWatcher>(DepositWatcher.JobId, w => w.RunAsync(CancellationToken.None), Cron.Minutely());
        app.MapMoneyEndpoints();
        app.MapDepositEndpoints();
    }

    /// <summary>Says each problem of the Ton settings by name at start.</summary>
    private sealed class TonOptionsValidator(bool development) : Microsoft.Extensions.Options.IValidateOptions<TonOptions>
    {
        public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, TonOptions options)
        {
            var problems = options.Problems(development).ToList();
            return problems.Count == 0 ? Microsoft.Extensions.Options.ValidateOptionsResult.Success : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(problems);
        }
    }
}
