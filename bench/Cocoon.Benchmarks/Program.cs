using BenchmarkDotNet.Running;
using Cocoon.Benchmarks;

// dotnet run -c Release --project bench/Cocoon.Benchmarks -- browser-seal [MiB]   (headless Chromium harness)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- models [seconds]    (our ONNX engine against ONNX Runtime)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- models-profile [runs] (time per operator type of our engine)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- zoo [seconds] [dir] [name]  (models we did not make, against ONNX Runtime at batch 1 and 8, with each engine's peak memory: light architectures, openwakeword)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- zoo-profile [name] [runs] (time per operator type of our engine on the zoo models whose name contains name)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- dispatch [agents] [capacity] [units]  (the real portal's dispatcher with scripted agents answering at once: submit → assigned latency, units per second)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- decide [agents] [units]  (dispatch decisions with many agents registered: submit → every unit leased, none answered)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- simulate [agents] [units] [watchers]  (the agent simulator's load run: honest, slow, failing, lying, vanishing and reconnecting agents; exactly-once, liars, fair shares; raw Hangfire drain in the same run)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- operators [seconds]  (single operators at a decoder's shapes against ONNX Runtime: ConvTranspose, depthwise Conv)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- kernels [seconds]   (the CPU kernels one by one: GEMM shapes, pooling, GELU)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- kernels-best [rounds] (direct conv tilings, GEMM scaling, transposes: fastest rounds)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- loop cnn 1             (one reference model in a loop for 20 s, for perf)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- model-memory [MB]   (peak memory of a large model)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- activations         (the memory plan of each reference model)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- plan-vs-pool [seconds] (latency with and without the memory plan)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- fuzz [mutants] [seed] [device] (the semantic fuzzer over the reference and backend models; device: cuda, ilgpu-cpu… for the GPU kernels)
// dotnet run -c Release --project bench/Cocoon.Benchmarks -- --filter '*'          (BenchmarkDotNet)
if (args is ["browser-seal", ..])
{
    return await BrowserSealBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 64);
}

if (args is ["models", ..])
{
    return EngineVersusOrt.Run(args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3);
}

if (args is ["zoo", ..])
{
    return Zoo.Run(args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3, args.Length > 2 && args[2].Length > 0 ? args[2] : null, args.Length > 3 ? args[3] : "");
}

if (args is ["dispatch", ..])
{
    int Arg(int at, int fallback) => args.Length > at ? int.Parse(args[at], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    return await Cocoon.Benchmarks.DispatchRun.RunAsync(Arg(1, 20), Arg(2, 4), Arg(3, 2000));
}

if (args is ["decide", ..])
{
    int Arg(int at, int fallback) => args.Length > at ? int.Parse(args[at], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    return await Cocoon.Benchmarks.DecideRun.RunAsync(Arg(1, 10_000), Arg(2, 1_000));
}

if (args is ["simulate", ..])
{
    int Arg(int at, int fallback) => args.Length > at ? int.Parse(args[at], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    return await SimulateRun.RunAsync(Arg(1, 200), Arg(2, 10_000), Arg(3, 50));
}

if (args is ["operators", ..])
{
    return OperatorVersusOrt.Run(args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2);
}

if (args is ["zoo-profile", ..])
{
    return Zoo.Profile(args.Length > 1 ? args[1] : "", args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20);
}

if (args is ["models-profile", ..])
{
    return EngineVersusOrt.Profile(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200);
}

if (args is ["loop", var name, var batch])
{
    return KernelHarness.Loop(name, int.Parse(batch, System.Globalization.CultureInfo.InvariantCulture));
}

if (args is ["kernels-best", ..])
{
    return KernelRounds.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 8);
}

if (args is ["kernels", ..])
{
    return KernelHarness.Run(args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1);
}

if (args is ["model-memory", ..])
{
    return EngineVersusOrt.Memory(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100);
}

if (args is ["plan-vs-pool", ..])
{
    return EngineVersusOrt.PlanVersusPool(args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3);
}

if (args is ["activations"])
{
    return EngineVersusOrt.Activations();
}

if (args is ["fuzz", ..])
{
    return Fuzz.Run(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.TickCount,
        args.Length > 3 ? args[3] : null);
}

if (args is ["zoo-memory-run", var zooModel, var engine])
{
    return Zoo.MemoryRun(zooModel, engine);
}

if (args is ["model-memory-run", var modelPath])
{
    return EngineVersusOrt.MemoryRun(modelPath);
}

BenchmarkSwitcher.FromAssembly(typeof(BrowserSealBenchmark).Assembly).Run(args);
return 0;
