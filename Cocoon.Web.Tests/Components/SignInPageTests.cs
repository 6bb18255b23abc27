using Bunit;
using Cocoon.Web.Features.Identity;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace Cocoon.Web.Tests.Components;

/// <summary>The test wallet exists in Development only, whatever the settings say.</summary>
public sealed class SignInPageTests
{
    [Theory]
    [InlineData("Development", true, true)]
    [InlineData("Development", false, false)]
    [InlineData("Production", true, false)]
    [InlineData("Staging", true, false)]
    public async Task The_test_wallet_is_offered_only_in_development(string environment, bool setting, bool offered)
    {
        await using var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddSingleton(Options.Create(new WalletSignInOptions { TestWallet = setting }));
        ctx.Services.AddSingleton<IWebHostEnvironment>(new Environment(environment));

        var page = ctx.Render<SignInPage>();

        Assert.Equal(offered, page.FindAll("#test-wallet-sign-in").Count == 1);
        Assert.Equal(offered, page.Markup.Contains("Development only", StringComparison.Ordinal));
        Assert.Single(page.FindAll("#ton-connect-button"));
    }

    private sealed class Environment(string name) : IWebHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "Cocoon.Web";

        public string WebRootPath { get; set; } = "";

        public IFileProvider WebRootFileProvider { get; set; } = new NullFileProvider();

        public string ContentRootPath { get; set; } = "";

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
