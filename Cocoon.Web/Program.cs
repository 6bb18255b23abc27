using Cocoon.Web.Components;
using Cocoon.Web.Features.Agents;
using Cocoon.Web.Features.Assets;
using Cocoon.Web.Features.Attestation;
using Cocoon.Web.Features.Blobs;
using Cocoon.Web.Features.Finance;
using Cocoon.Web.Features.Health;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Features.LocalAgent;
using Cocoon.Web.Features.ModelRuns;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Features.Payouts;
using Cocoon.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Cocoon.Web;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (Features.Ledger.LedgerCommand.Handles(args))
        {
            return await Features.Ledger.LedgerCommand.RunAsync(args, Console.Out, Console.Error);
        }

        try
        {
            await using var app = await BuildAsync(args);
            await app.RunAsync();
            return 0;
        }
        catch (CocoonStartupException ex)
        {
            await Console.Error.WriteLineAsync($"cocoon: {ex.Message}");
            return 1;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"cocoon: invalid settings: {string.Join(" ", ex.Failures)}");
            return 1;
        }
    }

    /// <summary>The portal, feature by feature. Tests call this too, with their own settings.</summary>
    public static async Task<WebApplication> BuildAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        await builder.AddCocoonDatabaseAsync();
        builder.AddCocoonPlatform();
        builder.AddCocoonHangfire();
        builder.AddCocoonIdentity();
        builder.AddCocoonRateLimits();
        builder.AddCocoonJobs();
        builder.AddCocoonAgents();
        builder.AddCocoonFinance();
        builder.AddCocoonMoney();
        builder.AddCocoonPayouts();
        builder.AddCocoonBlobs();
        builder.AddCocoonAssets();
        builder.AddCocoonModelRuns();
        builder.AddCocoonAttestation();
        builder.AddCocoonUi();
        builder.AddCocoonLocalAgent();

        var app = builder.Build();
        app.UseCocoonPlatform();
        app.UseCocoonWebHardening();
        app.UseCocoonIdentity();
        app.UseCocoonUi();
        app.MapCocoonIdentity();
        app.MapCocoonJobs();
        app.MapCocoonBlobs();
        app.MapCocoonAssets();
        app.MapCocoonModelRuns();
        app.MapCocoonAttestation();
        app.MapCocoonAgents();
        app.MapCocoonMoney();
        app.MapCocoonPayouts();
        app.MapCocoonHealth();
        app.MapCocoonHangfire();
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("Cocoon portal ready at {Urls}", string.Join(", ", app.Urls)));
        return app;
    }
}
