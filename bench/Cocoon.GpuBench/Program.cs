using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Operators;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

// The GPU harness: what docs/BENCHMARKS.md reports for CUDA, run on a machine with an NVIDIA GPU
// (scripts/gpu-bench builds it, with the .NET runtime and the test assembly, into one folder to carry).
//   matmul [n ...]        the engine's GEMM kernels on the GPU, n × n × n, GFLOP/s and error against the CPU kernels
//   tests DLL [category]  the test assembly's tests of one trait category (default Gpu), without an SDK
//   export-models DIR     the reference models as .onnx files, and inputs for batch 1 and 32 as .npz (for infer --profile;
//                         bench/gpu/torch_reference.py times the models in PyTorch)
//   ptx KERNEL            the PTX ILGPU emits for one of GpuKernels' kernels, for Hopper (no GPU needed)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
return args switch
{
    ["matmul", .. var sizes] => GpuHarness.Matmul(sizes.Length == 0 ? [256, 512, 1024, 2048, 4096, 8192] : [.. sizes.Select(int.Parse)]),
    ["tests", var dll] => TestRunner.Run(dll, "Gpu"),
    ["tests", var dll, var category] => TestRunner.Run(dll, category),
    ["export-models", var dir] => GpuHarness.Export(dir),
    ["ptx", var kernel] => GpuHarness.Ptx(kernel),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Cocoon.GpuBench matmul [n ...] | tests DLL [category] | export-models DIR | ptx KERNEL");
    return 2;
}

internal static class GpuHarness
{
    public static int Matmul(int[] sizes)
    {
        // COCOON_GPU=ilgpu-cpu checks the harness itself on a machine without a GPU (at small n).
        using var opened = InferenceDevice.Open(Environment.GetEnvironmentVariable("COCOON_GPU") ?? "cuda");
        var device = opened.Gpu ?? throw new InvalidOperationException("COCOON_GPU must name a GPU: cuda, opencl or ilgpu-cpu.");
        Console.WriteLine($"device: {device.Info.Name}");
        Console.WriteLine("| n | kernel | median ms | GFLOP/s | rel. L2 error vs CPU |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: |");
        foreach (var n in sizes)
        {
            var random = new Random(n);
            var a = ReferenceModels.Values(random, n * n, 1);
            var b = ReferenceModels.Values(random, n * n, 1);
            var expected = new float[n * n];
            GemmKernel.Multiply(a, 0, b, 0, expected, 0, n, n, n);
            using var da = device.Allocate(a.Length);
            using var db = device.Allocate(b.Length);
            using var dc = device.Allocate(n * n);
            da.Upload(a);
            db.Upload(b);
            var g = new GemmArguments { M = n, N = n, K = n, ARow = n, ACol = 1, BRow = n, BCol = 1, Alpha = 1, Batch = Dims6.From([], 1), ABatch = Dims6.From([], 0), BBatch = Dims6.From([], 0) };
            foreach (var blocked in new[] { true, false })
            {
                // Poisoned first, so an output the kernel never wrote shows as an error.
                dc.Upload([.. Enumerable.Repeat(float.NaN, n * n)]);
                void Launch() => GpuRun.GemmInto(device, da.View, db.View, null, dc.View, g, 1, blocked);
                Launch();
                var got = dc.Download();
                var error = RelativeError(expected, got);
                var ms = MedianMilliseconds(device, Launch);
                Console.WriteLine($"| {n} | {(blocked ? "blocked 128×128, 8×8 a thread" : "tiled 16×16")} | {ms:F3} | {2.0 * n * n * n / ms / 1e6:F0} | {error:E1} |");
            }
        }

        return 0;
    }

    /// <summary>Median of seven timings, each of enough launches to last about 50 ms (as judged by one synchronised launch).</summary>
    private static double MedianMilliseconds(GpuDevice device, Action launch)
    {
        var once = Stopwatch.StartNew();
        launch();
        device.Accelerator.Synchronize();
        var perBatch = Math.Clamp((int)(50 / once.Elapsed.TotalMilliseconds), 1, 10_000);
        var times = new double[7];
        for (var t = 0; t < times.Length; t++)
        {
            device.Accelerator.Synchronize();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < perBatch; i++)
            {
                launch();
            }

            device.Accelerator.Synchronize();
            times[t] = clock.Elapsed.TotalMilliseconds / perBatch;
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }

    private static double RelativeError(float[] expected, float[] actual)
    {
        double difference = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = (double)actual[i] - expected[i];
            difference += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return double.IsNaN(difference) ? double.NaN : Math.Sqrt(difference / norm);
    }

    public static int Ptx(string kernel)
    {
        var method = typeof(GpuKernels).GetMethod(kernel, BindingFlags.Public | BindingFlags.Static);
        if (method is null)
        {
            Console.Error.WriteLine($"Cocoon.GpuBench: no kernel {kernel} in GpuKernels");
            return 2;
        }

        using var context = Context.Create(b => b.Default().EnableAlgorithms());
        var architecture = new CudaArchitecture(9, 0);
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, new CudaInstructionSet(7, 8), nvvmAPI: null);
        var entry = method.GetParameters()[0].ParameterType == typeof(Index1D)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method);
        Console.WriteLine(((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly);
        return 0;
    }

    public static int Export(string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var model in ReferenceModels.All)
        {
            var path = Path.Combine(dir, $"{model.Name}.onnx");
            File.WriteAllBytes(path, model.Onnx);
            foreach (var batch in new[] { 1, 32 })
            {
                var shape = model.InputShape(batch);
                var input = new Tensor(shape, ReferenceModels.Values(new Random(batch), shape.Aggregate(1, (p, d) => p * d), 1));
                TensorFiles.WriteNpz(Path.Combine(dir, $"{model.Name}-b{batch}.npz"), new Dictionary<string, Tensor> { [model.Input] = input });
            }

            Console.WriteLine($"{path}: input {model.Input} [{string.Join(", ", model.InputShape(1)[1..].Prepend(-1))}]");
        }

        return 0;
    }
}

/// <summary>
/// Runs the xUnit tests of one trait category from a built test assembly, for machines that have the
/// .NET runtime but no SDK (the GPU machine): facts and theories (inline and member data), class
/// fixtures, Xunit.SkippableFact's skips. One line per test; exit 1 when any failed.
/// </summary>
internal static class TestRunner
{
    public static int Run(string dll, string category)
    {
        var path = Path.GetFullPath(dll);
        var resolver = new AssemblyDependencyResolver(path);
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            resolver.ResolveAssemblyToPath(name) is { } found ? context.LoadFromAssemblyPath(found) : null;
        var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
        var (passed, failed, skipped) = (0, 0, 0);
        foreach (var type in assembly.GetTypes().Where(t => HasTrait(t, category)))
        {
            var fixtures = type.GetConstructors().Single().GetParameters().Select(p => Activator.CreateInstance(p.ParameterType)!).ToArray();
            try
            {
                foreach (var method in type.GetMethods().Where(m => m.GetCustomAttributes().Any(a => Is(a.GetType(), "FactAttribute"))))
                {
                    foreach (var arguments in Cases(type, method))
                    {
                        var name = $"{type.Name}.{method.Name}({string.Join(", ", arguments)})";
                        var clock = Stopwatch.StartNew();
                        try
                        {
                            var instance = Activator.CreateInstance(type, fixtures);
                            method.Invoke(instance, arguments);
                            (instance as IDisposable)?.Dispose();
                            passed++;
                            Console.WriteLine($"pass  {name} [{clock.ElapsedMilliseconds} ms]");
                        }
                        catch (TargetInvocationException ex) when (ex.InnerException?.GetType().Name == "SkipException")
                        {
                            skipped++;
                            Console.WriteLine($"skip  {name}: {ex.InnerException.Message}");
                        }
                        catch (TargetInvocationException ex)
                        {
                            failed++;
                            Console.WriteLine($"FAIL  {name}: {ex.InnerException}");
                        }
                    }
                }
            }
            finally
            {
                foreach (var fixture in fixtures)
                {
                    (fixture as IDisposable)?.Dispose();
                }
            }
        }

        Console.WriteLine($"{category} tests: {passed} passed, {failed} failed, {skipped} skipped");
        return failed > 0 || passed + skipped == 0 ? 1 : 0;
    }

    private static bool HasTrait(Type type, string category) =>
        type.GetCustomAttributesData().Any(a => a.AttributeType.Name == "TraitAttribute"
            && a.ConstructorArguments.Select(c => c.Value as string).SequenceEqual(["Category", category]));

    private static bool Is(Type? type, string name)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.Name == name)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The argument lists a test runs with: none for a fact, each row of its inline and member data for a theory.</summary>
    private static IEnumerable<object?[]> Cases(Type type, MethodInfo method)
    {
        if (method.GetParameters().Length == 0)
        {
            yield return [];
            yield break;
        }

        foreach (var data in method.GetCustomAttributesData())
        {
            if (data.AttributeType.Name == "InlineDataAttribute")
            {
                yield return [.. ((IEnumerable<CustomAttributeTypedArgument>)data.ConstructorArguments[0].Value!).Select(v => v.Value)];
            }
            else if (data.AttributeType.Name == "MemberDataAttribute")
            {
                var member = (string)data.ConstructorArguments[0].Value!;
                var owner = data.NamedArguments.FirstOrDefault(n => n.MemberName == "MemberType").TypedValue.Value as Type ?? type;
                var flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.FlattenHierarchy;
                var value = owner.GetProperty(member, flags)?.GetValue(null) ?? owner.GetMethod(member, flags)?.Invoke(null, null);
                foreach (var row in (IEnumerable<object?[]>)value!)
                {
                    yield return row;
                }
            }
        }
    }
}
