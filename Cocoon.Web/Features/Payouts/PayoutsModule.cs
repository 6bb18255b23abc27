using Hangfire;

namespace Cocoon.Web.Features.Payouts;

/// <summary>Payouts: earnings made payable, batches two Finance users agree on, transfers the treasury signs, and their confirmation on chain.</summary>
public static class PayoutsModule
{
    public static void AddCocoonPayouts(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PayoutOptions>().BindConfiguration(PayoutOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<PayoutSettingsService>();
        builder.Services.AddSingleton<PayoutBatches>();
        builder.Services.AddScoped<PayoutTransfers>();
        builder.Services.AddScoped<PayoutWatcher>();
        builder.Services.AddScoped<Payables>();
        builder.Services.AddScoped<Reconciliation>();
        builder.Services.AddSingleton<Statements>();
    }

    public static void MapCocoonPayouts(this WebApplication app)
    {
        var recurring = app.Services.GetRequiredService<IRecurringJobManager>();
        recurring.AddOrUpdate<Payables>(Payables.JobId, p => p.RunAsync(CancellationToken.None), Cron.Hourly());
        recurring.AddOrUpdate<PayoutWatcher>(PayoutWatcher.JobId, w => w.RunAsync(CancellationToken.None), Cron.Minutely());
        recurring.AddOrUpdate<Reconciliation>(Reconciliation.JobId, r => r.DailyAsync(CancellationToken.None), Cron.Daily());
        app.MapPayoutEndpoints();
    }
}
