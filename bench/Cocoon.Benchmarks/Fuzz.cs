using System.Diagnostics;
using Cocoon.Agent.Tests.Inference.Fuzzing;

namespace Cocoon.Benchmarks;

/// <summary>
/// The semantic fuzzer at length: mutants of the reference models and of ONNX's backend test models,
/// each refused with a model error or run bit-identically under two memory poisons. Prints a line per
/// seed group and every failure with the mutations that made it; exits 1 on any failure.
/// </summary>
internal static class Fuzz
{
    /// <param name="device">A device word (cuda, ilgpu-cpu…) to run the mutants' GPU kernels on; null: the CPU kernels.</param>
    public static int Run(int mutants, int seed, string? device = null)
    {
        using var opened = device is null ? null : Cocoon.Agent.Inference.InferenceDevice.Open(device);
        var failed = 0;
        foreach (var (name, seeds) in new[] { ("reference models", MutantHarness.ReferenceSeeds().ToList()), ("backend models", MutantHarness.BackendSeeds().ToList()) })
        {
            var clock = Stopwatch.StartNew();
            var outcome = MutantHarness.Run(seeds, mutants, seed, TimeSpan.FromSeconds(60), opened?.Gpu);
            Console.WriteLine($"{name} ({seeds.Count} seeds) on {opened?.Name ?? "the CPU kernels"}, seed {seed}: {mutants} mutants, {outcome.Refused} refused, {outcome.Ran} ran identically, {outcome.Failures.Count} failed, {clock.Elapsed.TotalSeconds:F0} s");
            foreach (var failure in outcome.Failures)
            {
                Console.WriteLine("  " + failure);
            }

            failed += outcome.Failures.Count;
        }

        return failed == 0 ? 0 : 1;
    }
}
