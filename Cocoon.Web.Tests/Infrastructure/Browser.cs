using Microsoft.Playwright;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>Debian's Chromium driven by Playwright (which downloads nothing here).</summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/lib/chromium/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<Browser> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: run scripts/test, which installs Debian's chromium.");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        return new Browser(playwright, browser);
    }

    public async Task<IPage> OpenAsync(Uri url)
    {
        // Its own context (a browser profile): a test can open more tabs in it that share cookies and IndexedDB.
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(url.ToString());
        await page.WaitForSelectorAsync("#cocoon-app[data-interactive=true]", new() { Timeout = 30_000 });
        return page;
    }

    /// <summary>
    /// Signs in through the real sign-in page with the Development test wallet (a new wallet per page),
    /// then lands on <paramref name="path"/>.
    /// </summary>
    public async Task<IPage> OpenSignedInAsync(Uri portal, string path)
    {
        var page = await OpenAsync(new Uri(portal, $"signin?ReturnUrl={Uri.EscapeDataString(path)}"));
        await page.Locator("#test-wallet-sign-in").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == path, new() { Timeout = 30_000 });
        await page.WaitForSelectorAsync("#cocoon-app[data-interactive=true]", new() { Timeout = 30_000 });
        return page;
    }

    /// <summary>
    /// On the Models &amp; datasets page of a browser that has no key yet: creates the developer key under
    /// a passphrase and returns the encrypted backup the page downloads.
    /// </summary>
    public static async Task<IDownload> CreateDeveloperKeyAsync(IPage page, string passphrase = "correct horse battery staple")
    {
        ArgumentNullException.ThrowIfNull(page);
        await Assertions.Expect(page.Locator("#no-key")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.Locator("#key-passphrase").FillAsync(passphrase);
        var backup = await page.RunAndWaitForDownloadAsync(() => page.Locator("#create-key").ClickAsync());
        await Assertions.Expect(page.Locator("#public-key")).ToBeVisibleAsync();
        return backup;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
