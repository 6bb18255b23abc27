namespace Cocoon.Devnet;

/// <summary><c>cocoon-devnet --urls http://127.0.0.1:8081</c>: the local TON chain for Development and tests.</summary>
public static class DevnetProgram
{
    public static async Task<int> Main(string[] args)
    {
        var url = args.SkipWhile(a => a != "--urls").Skip(1).FirstOrDefault() ?? Environment.GetEnvironmentVariable("COCOON_DEVNET_URL") ?? "http://127.0.0.1:8081";
        await using var app = DevnetServer.Build(url);
        await app.StartAsync();
        Console.WriteLine($"Cocoon devnet listening on {url}");
        await app.WaitForShutdownAsync();
        return 0;
    }
}
