using BenchmarkDotNet.Running;
using Cocoon.Benchmarks;

// dotnet run -c Release --project bench/Cocoon.Benchmarks -- browser-seal [MiB]   (headless Chromium harness)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- --filter '*'          (BenchmarkDotNet)
if (args is ["browser-seal", ..])
{
    return await BrowserSealBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 64);
}

BenchmarkSwitcher.FromAssembly(typeof(BrowserSealBenchmark).Assembly).Run(args);
return 0;
